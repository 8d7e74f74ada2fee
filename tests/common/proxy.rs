//! A small TCP proxy for fault tests against real servers: forwards every
//! connection to the server, counts what the client sends (one count per
//! read chunk, which for sqlx is about one protocol message batch), and,
//! once armed, cuts or black-holes every connection after the k-th chunk.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    /// Close both sides: the connection is lost.
    Cut,
    /// Keep both sides open and forward nothing more: no answer, ever.
    BlackHole,
}

struct Shared {
    /// Client chunks seen since the proxy was last armed.
    chunks: AtomicUsize,
    /// Break after this many chunks (0: disarmed).
    after: AtomicUsize,
    how: std::sync::Mutex<Break>,
    fired: AtomicBool,
    /// Bumped when the proxy fires, so every connection learns at once.
    fire: watch::Sender<u64>,
    /// Set by [`Proxy::release`]: black-holed connections are dropped.
    release: watch::Sender<bool>,
}

#[derive(Clone)]
pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// A proxy on a free loopback port, forwarding to `target` (`host:port`).
    pub async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (fire, _) = watch::channel(0u64);
        let (release, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            chunks: AtomicUsize::new(0),
            after: AtomicUsize::new(0),
            how: std::sync::Mutex::new(Break::Cut),
            fired: AtomicBool::new(false),
            fire,
            release,
        });
        let s = shared.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let s = s.clone();
                let target = target.clone();
                tokio::spawn(async move {
                    if s.fired.load(Ordering::SeqCst) {
                        let how = *s.how.lock().unwrap();
                        hold_or_drop(client, how, s.release.subscribe()).await;
                        return;
                    }
                    if let Ok(server) = TcpStream::connect(&target).await {
                        let _ = server.set_nodelay(true);
                        let _ = client.set_nodelay(true);
                        pipe(client, server, s).await;
                    }
                });
            }
        });
        Proxy { port, shared }
    }

    /// Breaks every connection after `k` more client chunks, and every
    /// connection made after that, until [`Proxy::heal`].
    pub fn arm(&self, k: usize, how: Break) {
        *self.shared.how.lock().unwrap() = how;
        self.shared.fired.store(false, Ordering::SeqCst);
        self.shared.chunks.store(0, Ordering::SeqCst);
        self.shared.after.store(k, Ordering::SeqCst);
    }

    /// Forwards normally again (connections broken stay broken).
    pub fn heal(&self) {
        self.shared.after.store(0, Ordering::SeqCst);
        self.shared.fired.store(false, Ordering::SeqCst);
    }

    /// Closes every connection a black hole holds, both sides, as a
    /// network that comes back does in the end: the server then ends
    /// their sessions and frees what they held (a test's database can be
    /// dropped).
    pub fn release(&self) {
        self.shared.release.send_replace(true);
    }

    pub fn fired(&self) -> bool {
        self.shared.fired.load(Ordering::SeqCst)
    }

    /// Client chunks counted since the last `arm`.
    pub fn chunks(&self) -> usize {
        self.shared.chunks.load(Ordering::SeqCst)
    }
}

async fn hold_or_drop(client: TcpStream, how: Break, mut release: watch::Receiver<bool>) {
    if how == Break::BlackHole {
        // Never answer; the client's own deadline must end it.
        let _client = client;
        let _ = release.wait_for(|r| *r).await;
    }
}

async fn pipe(client: TcpStream, server: TcpStream, s: Arc<Shared>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let mut fired = s.fire.subscribe();
    let mut release = s.release.subscribe();
    let up = {
        let s = s.clone();
        let (cr, sw) = (&mut cr, &mut sw);
        async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if s.fired.load(Ordering::SeqCst) {
                    return;
                }
                let after = s.after.load(Ordering::SeqCst);
                let seen = s.chunks.fetch_add(1, Ordering::SeqCst) + 1;
                if after > 0 && seen >= after {
                    // This chunk never reaches the server.
                    s.fired.store(true, Ordering::SeqCst);
                    s.fire.send_modify(|v| *v += 1);
                    return;
                }
                if sw.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    };
    let (sr2, cw2) = (&mut sr, &mut cw);
    let down = async move {
        let (sr, cw) = (sr2, cw2);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let how = || *s.how.lock().unwrap();
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = fired.changed() => {}
    }
    if s.fired.load(Ordering::SeqCst) && how() == Break::BlackHole {
        // The halves are still open here: the client hears nothing more.
        let _held = (cr, cw, sr, sw);
        let _ = release.wait_for(|r| *r).await;
    }
}
