//! `hull pull`'s progress: one line per layer, redrawn in place with a bar,
//! bytes and speed on a terminal; plain lines ("Pulling fs layer",
//! "Pull complete") otherwise.

use hull_image::registry::Progress;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Layer {
    id: String,
    total: u64,
    done: u64,
    state: &'static str,
    started: Instant,
}

/// Progress display for one pull.
pub struct Display {
    tty: bool,
    quiet: bool,
    inner: Mutex<(Vec<Layer>, usize, Instant)>,
}

impl Display {
    /// A display writing to stdout.
    pub fn new(tty: bool, quiet: bool) -> Display {
        Display { tty, quiet, inner: Mutex::new((Vec::new(), 0, Instant::now())) }
    }

    /// Takes one event.
    pub fn event(&self, p: Progress) {
        if self.quiet {
            return;
        }
        let Ok(mut g) = self.inner.lock() else { return };
        let (layers, drawn, last) = &mut *g;
        let find = |layers: &mut Vec<Layer>, id: &str| layers.iter().position(|l| l.id == id);
        match p {
            Progress::Queued(id, total) => {
                self.line(&id, "Pulling fs layer");
                layers.push(Layer { id, total, done: 0, state: "Waiting", started: Instant::now() });
            }
            Progress::Start(id, _) => {
                if let Some(i) = find(layers, &id) {
                    layers[i].state = "Downloading";
                    layers[i].started = Instant::now();
                }
            }
            Progress::Exists(id) => {
                self.line(&id, "Already exists");
                layers.push(Layer { id, total: 0, done: 0, state: "Already exists", started: Instant::now() });
            }
            Progress::Bytes(id, n) => {
                if let Some(i) = find(layers, &id) {
                    layers[i].done = n;
                }
                // Redraw at most ten times a second.
                if last.elapsed() < Duration::from_millis(100) {
                    return;
                }
            }
            Progress::Done(id) => {
                self.line(&id, "Verifying Checksum");
                self.line(&id, "Download complete");
                if let Some(i) = find(layers, &id) {
                    layers[i].state = "Download complete";
                    layers[i].done = layers[i].total;
                }
            }
        }
        if self.tty {
            *drawn = redraw(layers, *drawn);
            *last = Instant::now();
        }
    }

    /// After the layers are unpacked (in order, as docker extracts them):
    /// "Pull complete" for each fetched one. Returns whether any was fetched.
    pub fn unpacked(&self) -> bool {
        let Ok(mut g) = self.inner.lock() else { return false };
        let (layers, drawn, _) = &mut *g;
        let mut fetched = false;
        for l in layers.iter_mut().filter(|l| l.state != "Already exists") {
            l.state = "Pull complete";
            fetched = true;
            if !self.quiet && !self.tty {
                println!("{}: Pull complete", l.id);
            }
        }
        if self.tty && !self.quiet {
            *drawn = redraw(layers, *drawn);
        }
        fetched
    }

    /// A plain progress line (not on a terminal, where the table is redrawn).
    fn line(&self, id: &str, what: &str) {
        if !self.tty {
            println!("{id}: {what}");
        }
    }
}

fn redraw(layers: &[Layer], drawn: usize) -> usize {
    let mut out = String::new();
    if drawn > 0 {
        out.push_str(&format!("\x1b[{drawn}A"));
    }
    for l in layers {
        out.push_str("\x1b[2K");
        if l.state == "Downloading" {
            let width = 30usize;
            let frac = if l.total == 0 { 0.0 } else { l.done as f64 / l.total as f64 };
            let filled = ((frac * width as f64) as usize).min(width);
            let secs = l.started.elapsed().as_secs_f64().max(0.001);
            let speed = super::human_size((l.done as f64 / secs) as u64);
            let bar = format!("{}>{}", "=".repeat(filled), " ".repeat(width - filled));
            out.push_str(&format!(
                "{}: Downloading [{bar}] {}/{} {speed}/s\n",
                l.id,
                super::human_size(l.done),
                super::human_size(l.total)
            ));
        } else {
            out.push_str(&format!("{}: {}\n", l.id, l.state));
        }
    }
    print!("{out}");
    let _ = std::io::stdout().flush();
    layers.len()
}
