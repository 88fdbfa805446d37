//! Low-level file-system primitives shared by the store and the credentials config: kernel
//! file locks. Nothing here knows an image, a layout or config.json.

pub mod lock;
