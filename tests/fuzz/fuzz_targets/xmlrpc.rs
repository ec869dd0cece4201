//! The XML-RPC request decoder: any body is a call or an error, never a panic or a stack
//! overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = supervisord::server::xmlrpc::value::parse_call(text);
    }
});
