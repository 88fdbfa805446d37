#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hoist::fuzzing::token_response(data));
