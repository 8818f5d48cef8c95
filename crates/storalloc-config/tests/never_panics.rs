//! The loaders face whatever users have on disk: mutated real files and
//! random text must give `Ok` or a clean error, never a panic.

mod common;

use common::{shared_data, yaml_files};
use proptest::prelude::*;
use storalloc_config::{parse_config, parse_system};

fn real_files() -> Vec<Vec<u8>> {
    let mut files = yaml_files(&shared_data().join("systems"));
    files.extend(yaml_files(&shared_data().join("configs")));
    files
        .into_iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    Insert(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (
            any::<usize>(),
            prop::sample::select(vec![
                "-", ":", " ", "\n", "&a ", "*a", "[", "]", "{", "}", "'", "\"", "#", "- x\n", "0",
                "-5", ".nan", "~", "\t", "!!int ", "? ", "|\n", ">\n",
            ])
            .prop_map(String::from)
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn apply(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    let len = bytes.len();
    match m {
        Mutation::Flip(i, b) => bytes[i % len] = *b,
        Mutation::Truncate(i) => bytes.truncate(i % len),
        Mutation::DeleteLine(i) | Mutation::DuplicateLine(i) => {
            let text = String::from_utf8_lossy(&bytes).to_string();
            let mut lines: Vec<&str> = text.lines().collect();
            let at = i % lines.len().max(1);
            if matches!(m, Mutation::DeleteLine(_)) {
                if !lines.is_empty() {
                    lines.remove(at);
                }
            } else if let Some(l) = lines.get(at).copied() {
                lines.insert(at, l);
            }
            return lines.join("\n").into_bytes();
        }
        Mutation::Insert(i, s) => {
            let at = i % len;
            bytes.splice(at..at, s.bytes());
        }
    }
    bytes
}

fn both(text: &str) {
    let _ = parse_system(text, "fuzz.yml");
    let _ = parse_config(text, "fuzz.yml");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_files_never_panic(
        pick in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let files = real_files();
        let mut bytes = pick.get(&files).clone();
        for m in &muts {
            bytes = apply(bytes, m);
        }
        both(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_strings_never_panic(s in any::<String>()) {
        both(&s);
    }

    #[test]
    fn yamlish_strings_never_panic(s in "([a-z_]{1,12}|[-:\\[\\]{},&*!|>'\" \n]|[0-9.]{1,6}){0,60}") {
        both(&s);
    }
}
