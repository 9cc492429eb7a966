//! A remote import over TLS (LANGUAGE.md 9.10, issue 19): the test makes a certificate for
//! `localhost` (rcgen), serves a module with it from a rustls server thread on 127.0.0.1, and
//! runs the CLI with the certificate trusted through `SSL_CERT_FILE`, the usual variable
//! (the CLI's client takes the platform's roots, rustls-native-certs, which reads it). Without
//! the certificate trusted, the same import is M4008, naming the failed handshake.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

const MODULE: &str = "export let port = 8443;\n";

/// Serves `MODULE` over TLS to every connection, on a thread, until the process ends.
fn serve(cert_der: Vec<u8>, key_der: Vec<u8>) -> u16 {
    // The crate's one crypto provider (ring, as the CLI's client uses).
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert_der.into()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into()),
        )
        .expect("a server certificate");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{MODULE}",
                    MODULE.len()
                );
                let _ = tls.write_all(answer.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

fn eval(dir: &Path, cert_file: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ligature"));
    command
        .args(["eval", "main.lig"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("LIGATURE_CACHE_DIR", dir.join("cache"))
        .env_remove("SSL_CERT_DIR");
    match cert_file {
        Some(file) => command.env("SSL_CERT_FILE", file),
        None => command.env("SSL_CERT_FILE", dir.join("no-such-bundle.pem")),
    };
    command.output().expect("the ligature binary runs")
}

#[test]
fn a_remote_module_over_tls_with_a_certificate_trusted_by_ssl_cert_file() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("a self-signed certificate");
    let port = serve(cert.cert.der().to_vec(), cert.key_pair.serialize_der());
    let dir = std::env::temp_dir().join(format!("ligature-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let pem = dir.join("ca.pem");
    std::fs::write(&pem, cert.cert.pem()).expect("the certificate file");
    std::fs::write(
        dir.join("main.lig"),
        format!("import \"https://localhost:{port}/lib/net.lig\" as net;\nlet port = net.port;\n"),
    )
    .expect("main.lig");

    // Not trusted: the handshake fails, M4008 with the reason, exit 1.
    let refused = eval(&dir, None);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[M4008]"), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("certificate"),
        "the reason names the certificate: {stderr}"
    );
    assert!(!dir.join("ligature.lock").exists(), "nothing pinned");

    // Trusted through SSL_CERT_FILE: fetched, evaluated, pinned.
    let trusted = eval(&dir, Some(&pem));
    let stderr = String::from_utf8_lossy(&trusted.stderr);
    assert!(trusted.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&trusted.stdout),
        "{\n  \"port\": 8443\n}\n"
    );
    let lock = std::fs::read_to_string(dir.join("ligature.lock")).expect("the lock file");
    assert!(
        lock.contains(&format!(
            "\"https://localhost:{port}/lib/net.lig\" = \"sha256-"
        )),
        "{lock}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
