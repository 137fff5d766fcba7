//! The PyTorch twin builds its ops from a copy of the op registry
//! (python/vidnas_twin/registry.py, `STRUCTURE`): every op of the Rust registry must be there
//! with the same structure, so an op added here cannot be missing or different there.

use vidnas_space::{Kernel, Keys, Mixing, OpKind, Structure};

#[test]
fn the_python_twin_registry_matches_the_rust_one() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../python/vidnas_twin/registry.py"
    );
    let text = std::fs::read_to_string(file).unwrap();
    let start = text
        .find("STRUCTURE = {")
        .expect("STRUCTURE in registry.py");
    let table = &text[start..start + text[start..].find("\n}").expect("closing brace")];
    let entries = table
        .lines()
        .filter(|l| l.trim_start().starts_with('"'))
        .count();
    assert_eq!(entries, OpKind::COUNT, "{table}");
    for op in OpKind::ALL {
        let mixing = |m: Mixing| match m {
            Mixing::Frames => "frames",
            Mixing::Pixels => "pixels",
            Mixing::Volume => "volume",
        };
        let want = match op.spec().structure {
            Structure::Identity => "None".to_string(),
            Structure::Conv { layers } => {
                let stages: Vec<String> = layers
                    .iter()
                    .map(|l| match l.kernel {
                        Kernel::Hyper => format!(r#"("{}", "k")"#, mixing(l.mixes)),
                        Kernel::Fixed(size) => format!(r#"("{}", {size})"#, mixing(l.mixes)),
                    })
                    .collect();
                format!(r#"("conv", [{}])"#, stages.join(", "))
            }
            Structure::Attention { mixes, keys } => match keys {
                Keys::All => format!(r#"("attention", "{}")"#, mixing(mixes)),
                Keys::Strided => format!(r#"("attention", "{}", "strided")"#, mixing(mixes)),
            },
        };
        let line = format!(r#""{op}": {want},"#);
        // In canonical order: the twin's op order (`OP_KINDS`) is the table's.
        assert_eq!(
            table
                .lines()
                .filter(|l| l.trim_start().starts_with('"'))
                .nth(op.index())
                .map(str::trim),
            Some(line.as_str()),
            "registry.py's STRUCTURE line {} is not `{line}`:\n{table}",
            op.index()
        );
    }
}
