//! The accept loop (`server::listen`) over real sockets: slow clients are cut off, the
//! connection limit holds, HTTPS works with a certificate, and shutdown drains.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use server::listen::{serve, HEADER_TIMEOUT};

/// Serves a router answering `ok` on `/` with at most `max_connections` connections.
async fn start(max_connections: usize, tls: Option<tokio_rustls::TlsAcceptor>) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/", get(|| async { "ok" }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, tls, max_connections, async { let _ = stopped.await; }));
    (addr, stop)
}

/// A complete request, answered.
fn fetch(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply
}

/// Blocks until the server closes `s` (or `limit` passes); returns how long that took.
fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut buf = [0u8; 512];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {} // a 408 before closing is fine
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(start.elapsed()), // reset
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn six_hundred_trickling_clients_are_cut_off_and_others_are_still_served() {
    let (addr, _stop) = start(1024, None).await;
    let clients = tokio::task::spawn_blocking(move || {
        let mut clients: Vec<TcpStream> = (0..600).map(|_| TcpStream::connect(addr).unwrap()).collect();
        for c in &mut clients {
            // A request line and half a header, never finished: slowloris.
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a").unwrap();
        }
        clients
    })
    .await
    .unwrap();
    assert!(tokio::task::spawn_blocking(move || fetch(addr)).await.unwrap().ends_with("ok"), "served while 600 hang");
    let limit = HEADER_TIMEOUT + Duration::from_secs(10);
    let closed = tokio::task::spawn_blocking(move || {
        let mut clients = clients;
        clients.iter_mut().map(|c| closed_within(c, limit)).filter(Option::is_some).count()
    })
    .await
    .unwrap();
    assert_eq!(closed, 600, "every slow client is closed within the header timeout ({HEADER_TIMEOUT:?}) and a margin");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_past_the_limit_are_closed_at_once() {
    let (addr, _stop) = start(4, None).await;
    let (held, mut extra) = tokio::task::spawn_blocking(move || {
        let held: Vec<TcpStream> = (0..4)
            .map(|_| {
                let mut s = TcpStream::connect(addr).unwrap();
                s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap(); // open, unfinished
                s
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200)); // let the server accept all four
        (held, TcpStream::connect(addr).unwrap())
    })
    .await
    .unwrap();
    let took = tokio::task::spawn_blocking(move || closed_within(&mut extra, Duration::from_secs(3))).await.unwrap();
    assert!(took.is_some(), "the fifth connection is closed well before the header timeout");
    drop(held);
}

#[tokio::test(flavor = "multi_thread")]
async fn https_serves_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let acceptor = server::listen::tls_acceptor(&cert_path, &key_path).unwrap();
    let (addr, _stop) = start(16, Some(acceptor)).await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("the handshake succeeds with the served certificate");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut reply = String::new();
    tls.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200") && reply.ends_with("ok"), "{reply}");

    // Plain HTTP to the TLS port gets no page.
    let plain = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(12))).unwrap();
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        buf
    })
    .await
    .unwrap();
    assert!(!String::from_utf8_lossy(&plain).contains("ok"));

    let Err(missing) = server::listen::tls_acceptor(&dir.path().join("nope.pem"), &key_path) else { panic!("a missing file is an error") };
    assert!(format!("{missing:#}").contains("nope.pem"), "the error names the file: {missing:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_shutdown_no_new_connection_is_accepted() {
    let (addr, stop) = start(16, None).await;
    assert!(tokio::task::spawn_blocking(move || fetch(addr)).await.unwrap().ends_with("ok"));
    stop.send(()).unwrap();
    // After shutdown begins nothing new is accepted.
    let refused = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(refused.is_ok(), "the listener closes");
}
