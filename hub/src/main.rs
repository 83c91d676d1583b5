//! The `civreg-hub` binary: the hub's allocator, then the command line
//! (`civreg_hub::cli::main`, one file per command group under `src/cli/`).

/// The hub's allocator (see hub/Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    civreg_hub::cli::main();
}
