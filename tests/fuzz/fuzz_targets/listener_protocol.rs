//! What an event listener writes on its stdout (the protocol parser), and what a program
//! writes in capture mode, in arbitrary pieces: no panic, and the buffers stay bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use supervisord::events::capture::Capture;
use supervisord::events::protocol::Listener;

fuzz_target!(|data: &[u8]| {
    let mut l = Listener::default();
    let mut c = Capture::new(64);
    // The first byte cuts the rest into pieces of that size (reads of any length).
    let Some((&step, rest)) = data.split_first() else {
        return;
    };
    for piece in rest.chunks(usize::from(step).max(1)) {
        for s in l.feed(piece) {
            if matches!(s, supervisord::events::protocol::Step::Ready) {
                l.sent();
            }
        }
        let _ = c.feed(piece);
    }
    let _ = c.finish();
});
