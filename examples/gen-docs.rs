//! Regenerates `completions/` and `man/` from the clap definitions: `cargo run --example gen-docs`.

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, contents) in hoist::docs::render()? {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("files live in a folder"))?;
        std::fs::write(&path, contents)?;
        println!(
            "wrote {}",
            path.strip_prefix(root).unwrap_or(&path).display()
        );
    }
    Ok(())
}
