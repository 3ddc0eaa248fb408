//! The checked-in registry files must be exactly what `tools/gen_registry.py` makes from the
//! OASIS tables in `../shared`, so nobody edits tag numbers by hand.

use std::path::Path;
use std::process::Command;

#[test]
fn generated_registry_matches_the_tables() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tables = root.join("../shared/kmip-spec/tables/kmip-registry.json");
    assert!(tables.is_file(), "{} not found: the tables are needed to check the registry", tables.display());
    let out = std::env::temp_dir().join(format!("kmipd-registry-{}", std::process::id()));
    for dir in ["src/ttlv", "src/kmip"] {
        std::fs::create_dir_all(out.join(dir)).unwrap();
    }
    let status = Command::new("python3")
        .arg(root.join("tools/gen_registry.py"))
        .arg(&tables)
        .arg(&out)
        .status()
        .expect("python3 is needed to run tools/gen_registry.py");
    assert!(status.success());
    for file in ["src/ttlv/registry_data.rs", "src/ttlv/tags.rs", "src/kmip/enums.rs"] {
        let fresh = std::fs::read_to_string(out.join(file)).unwrap();
        let checked_in = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(fresh == checked_in, "{file} is stale: run `python3 tools/gen_registry.py`");
    }
    let _ = std::fs::remove_dir_all(out);
}
