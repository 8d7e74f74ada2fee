//! Render time of one frame with 100,000 stuck orders loaded
//! (budget: ≤ 1 ms at 200x60, DESIGN section 9), and of the wallboard on a
//! 300x80 wall screen (it redraws every second for its clock and ages).

use criterion::{Criterion, criterion_group, criterion_main};
use orderdeck::fixtures;
use orderdeck::theme::ColorDepth;
use orderdeck::ui::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;

mod support;

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
        // The figure the budget applies to, from this run.
        let median = support::median(201, || {
            terminal
                .draw(|f| render(black_box(&state), f))
                .expect("draw");
        });
        support::figure(&format!("render_{w}x{h}_ms"), support::ms(median), "ms");
    }
}

fn wallboard(c: &mut Criterion) {
    let (w, h) = (300u16, 80u16);
    let mut state = fixtures::state(w, h, "high-contrast", ColorDepth::TrueColor, 100_000);
    state.wallboard.open(
        orderdeck::state::wallboard::Start::default(),
        false,
        fixtures::now(),
    );
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    c.bench_function("render wallboard 300x80 with 100k stuck orders", |b| {
        b.iter(|| {
            terminal
                .draw(|f| render(black_box(&state), f))
                .expect("draw");
        })
    });
}

criterion_group!(benches, frames, wallboard);
criterion_main!(benches);
