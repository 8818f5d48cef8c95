use serde::{Deserialize, Serialize};

/// A bandwidth in GB/s (decimal). Always finite and non-negative once parsed.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
pub struct Bandwidth(pub f64);

impl Bandwidth {
    pub const fn gb_per_s(v: f64) -> Bandwidth {
        Bandwidth(v)
    }

    pub const fn get(self) -> f64 {
        self.0
    }
}
