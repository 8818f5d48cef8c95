//! Compiles proto/storalloc/v1/*.proto (the API) and
//! proto/storalloc/store/v2/*.proto (the orchestrator's stored records) with
//! protox (pure Rust), so building needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/storalloc/v1/common.proto",
        "proto/storalloc/v1/client.proto",
        "proto/storalloc/v1/agent.proto",
        "proto/storalloc/v1/admin.proto",
        "proto/storalloc/store/v2/records.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
