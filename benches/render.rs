//! Render time of one frame with 100,000 stuck orders loaded
//! (budget: ≤ 1 ms at 200x60, DESIGN section 9).

use criterion::{Criterion, criterion_group, criterion_main};
use orderdeck::fixtures;
use orderdeck::theme::ColorDepth;
use orderdeck::ui::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;

fn frames(c: &mut Criterion) {
    for (w, h) in [(200u16, 60u16), (80, 24)] {
        let state = fixtures::state(w, h, "dark", ColorDepth::TrueColor, 100_000);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        c.bench_function(&format!("render {w}x{h} with 100k stuck orders"), |b| {
            b.iter(|| {
                terminal
                    .draw(|f| render(black_box(&state), f))
                    .expect("draw");
            })
        });
    }
}

criterion_group!(benches, frames);
criterion_main!(benches);
