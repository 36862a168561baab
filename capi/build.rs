//! Gives libcodecprep.so its SONAME. Cargo builds a cdylib without one; the installed library
//! is `libcodecprep.so.MAJOR` with `libcodecprep.so` linking to it (see meson.build).

fn main() {
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcodecprep.so.{major}");
    println!("cargo:rerun-if-changed=build.rs");
}
