//! Writes the project's generated test images into `testdata/`, and the fuzzers' seed
//! corpus into `fuzz/corpus/<target>/`.
//!
//! ```sh
//! cargo run --example gen_testdata
//! ```

#[path = "../tests/support/generate.rs"]
mod generate;

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("testdata");
    std::fs::create_dir_all(&dir)?;
    let mut total = 0;
    for (name, bytes) in generate::all() {
        total += bytes.len();
        std::fs::write(dir.join(&name), &bytes)?;
        println!("{:>8}  {name}", bytes.len());
    }
    println!("{total:>8}  total in testdata/");
    let corpus = root.join("fuzz/corpus");
    let (mut files, mut total) = (0, 0);
    for (target, name, bytes) in generate::corpus() {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), &bytes)?;
        files += 1;
        total += bytes.len();
    }
    println!("{total:>8}  total in fuzz/corpus/ ({files} files)");
    Ok(())
}
