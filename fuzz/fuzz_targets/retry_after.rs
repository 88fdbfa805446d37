#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hoist::fuzzing::retry_after(data));
