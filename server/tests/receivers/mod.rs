//! Real receivers for notification tests, on 127.0.0.1: an HTTP server that records every
//! request (method, headers, body) and answers from a script (a status, or never), and a
//! way to start `trailsight serve` on a database.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Reads the request, then never answers (a receiver that hangs, or a server killed mid-send).
    Hang,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// An HTTP receiver on 127.0.0.1. Request n (from 0) gets `script[n]`, later ones 200.
pub struct Receiver {
    pub url: String,
    got: Arc<(Mutex<Vec<Received>>, Condvar)>,
}

impl Receiver {
    pub fn start(script: Vec<Answer>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got: Arc<(Mutex<Vec<Received>>, Condvar)> = Arc::default();
        let shared = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                let script = script.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let mut headers = HashMap::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.insert(k.trim().to_lowercase(), v.trim().to_owned());
                        }
                    }
                    let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let n = {
                        let (list, ready) = &*shared;
                        let mut list = list.lock().unwrap();
                        list.push(Received { path, headers, body });
                        ready.notify_all();
                        list.len() - 1
                    };
                    match script.get(n).copied().unwrap_or(Answer::Status(200)) {
                        Answer::Status(code) => {
                            let mut stream = stream;
                            let _ = write!(stream, "HTTP/1.1 {code} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                        }
                        Answer::Hang => std::thread::sleep(Duration::from_secs(3600)),
                    }
                });
            }
        });
        Receiver { url, got }
    }

    /// Waits (up to a minute) until `n` requests have arrived, and returns them all.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let (list, ready) = &*self.got;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut list = list.lock().unwrap();
        while list.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "the receiver got {} requests, not {n}", list.len());
            list = ready.wait_timeout(list, left).unwrap().0;
        }
        list.clone()
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.0.lock().unwrap().clone()
    }
}

/// A running `trailsight serve` and every line it has logged (with when it was read), killed
/// (as with `kill -9`) when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    log: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Server {
    /// `serve` on a free loopback port with retention off, and `extra` arguments (such as
    /// `--detect-every`).
    pub fn start(db_url: &str, extra: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_trailsight"))
            .args(["serve", "--db", db_url, "--addr", &format!("127.0.0.1:{port}"), "--retention-days", "0"])
            .arg("--site-root")
            .arg(std::env::temp_dir())
            .args(extra)
            .env("RUST_LOG", "info,sqlx=warn")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stderr, lines) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push((Instant::now(), line));
            }
        });
        Server { child, url: format!("http://127.0.0.1:{port}"), log }
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n")
    }

    /// When the server first logged a line containing `text` after `since`.
    pub fn logged(&self, text: &str, since: Instant) -> Option<Instant> {
        self.log.lock().unwrap().iter().find(|(t, l)| *t >= since && l.contains(text)).map(|(t, _)| *t)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 20 ms for up to a minute; panics with `what` and the servers' logs.
pub async fn wait_until<T>(what: &str, servers: &[&Server], mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = servers.iter().map(|s| s.log()).collect();
            panic!("gave up waiting for {what}; the servers logged:\n{}", logs.join("\n-----\n"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `target/s3-venv/bin/<program>` (scripts/test.sh installs moto and aiosmtpd there), or
/// why it is missing. Under `CI=true` a missing program fails the test; elsewhere the caller
/// says so and skips.
pub fn venv_program(program: &str) -> Result<std::path::PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("s3-venv/bin").join(program);
    if path.exists() {
        return Ok(path);
    }
    let why = format!(
        "{} is missing; install it with: python3 -m venv {venv} && {venv}/bin/pip install -r server/tests/s3/requirements.txt",
        path.display(),
        venv = target.join("s3-venv").display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    Err(why)
}

/// A child process killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program args` and waits (up to 30 s) until it listens on `port`.
pub fn start_listening(program: &std::path::Path, args: &[&str], port: u16) -> Killed {
    let child = Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let child = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{} did not listen on port {port} within 30 s", program.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
