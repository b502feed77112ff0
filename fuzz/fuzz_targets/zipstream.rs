#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mesbackup_fuzz::zipstream(data));
