#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| filiere_fuzz::scan(data));
