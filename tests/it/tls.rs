//! TLS with libpq's sslmode meanings, against a server that serves TLS over TCP (a cluster
//! of its own: the shared test cluster, like the embedded default, has only a Unix socket).

use std::net::TcpListener;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use strata::db::DbUrl;
use strata::db::embedded::{Cluster, ClusterOptions};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA, and a server certificate for `localhost` it signed.
fn certificates() -> (String, String, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "strata test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server = params.signed_by(&server_key, &ca).unwrap();
    (ca.pem(), server.pem(), server_key.serialize_pem())
}

async fn uses_tls(url: &str) -> Result<bool, String> {
    let url: DbUrl = url.parse().map_err(|e: strata::Error| e.to_string())?;
    let client = url.connect().await.map_err(|e| e.to_string())?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

#[tokio::test]
async fn sslmodes_mean_what_they_mean_in_libpq() {
    let (ca, cert, key) = certificates();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let port = free_port();
    let server = Cluster::start_with(ClusterOptions {
        tcp_port: Some(port),
        tls: Some((cert, key)),
        password: Some("pw".into()),
        bindir: None,
        template_cache: None,
    })
    .await
    .unwrap();
    let ca = ca_file.display();
    let at =
        |host: &str, query: &str| format!("postgres://postgres:pw@{host}:{port}/postgres?{query}");

    // prefer (the default) and require encrypt without checking the certificate.
    assert_eq!(uses_tls(&at("localhost", "sslmode=prefer")).await, Ok(true));
    assert_eq!(
        uses_tls(&at("127.0.0.1", "sslmode=require")).await,
        Ok(true)
    );
    assert_eq!(
        uses_tls(&at("localhost", "sslmode=disable")).await,
        Ok(false)
    );
    // verify-full: the chain and the name.
    assert_eq!(
        uses_tls(&at(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={ca}")
        ))
        .await,
        Ok(true)
    );
    let wrong_name = uses_tls(&at(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await;
    assert!(
        wrong_name
            .as_ref()
            .is_err_and(|e| e.contains("certificate")),
        "{wrong_name:?}"
    );
    // As in libpq, only the named root is trusted: none named, it is refused (unless
    // ~/.postgresql/root.crt exists, which is not this CA either); the public CAs
    // (`system`) or another CA do not vouch for this server.
    let none_named = uses_tls(&at("localhost", "sslmode=verify-full")).await;
    assert!(
        none_named
            .as_ref()
            .is_err_and(|e| e.contains("sslrootcert")),
        "{none_named:?}"
    );
    let other_ca = dir.path().join("other ca.pem");
    std::fs::write(&other_ca, certificates().0).unwrap();
    for (root, modes) in [
        ("system".to_owned(), &["verify-full"][..]),
        (
            other_ca.display().to_string(),
            &["verify-ca", "verify-full"][..],
        ),
    ] {
        for mode in modes {
            let refused = uses_tls(&at(
                "localhost",
                &format!("sslmode={mode}&sslrootcert={}", root.replace(' ', "%20")),
            ))
            .await;
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.contains("invalid peer certificate")),
                "{mode} with sslrootcert={root}: {refused:?}"
            );
        }
    }
    // A keyword/value string as libpq reads it: spaces around `=`, quoted values (a path
    // with a space in it).
    let spaced = dir.path().join("the ca.pem");
    std::fs::copy(&ca_file, &spaced).unwrap();
    assert_eq!(
        uses_tls(&format!(
            "host = localhost port={port} user=postgres password = 'pw' dbname=postgres \
             sslmode = verify-full sslrootcert='{}'",
            spaced.display()
        ))
        .await,
        Ok(true)
    );
    // verify-ca: the chain only.
    assert_eq!(
        uses_tls(&at(
            "127.0.0.1",
            &format!("sslmode=verify-ca&sslrootcert={ca}")
        ))
        .await,
        Ok(true)
    );
    let missing = uses_tls(&at(
        "localhost",
        "sslmode=verify-full&sslrootcert=/nonexistent.pem",
    ))
    .await;
    assert!(
        missing
            .as_ref()
            .is_err_and(|e| e.contains("sslrootcert /nonexistent.pem")),
        "{missing:?}"
    );

    // The binary, end to end, with the password kept out of the output.
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin!("strata"))
        .env_remove("DATABASE_URL")
        .args([
            "inspect",
            "--database-url",
            &at(
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    drop(server);

    // require against a server without TLS fails; prefer falls back.
    let plain_port = free_port();
    let _plain = Cluster::start_with(ClusterOptions {
        tcp_port: Some(plain_port),
        tls: None,
        password: Some("pw".into()),
        bindir: None,
        template_cache: None,
    })
    .await
    .unwrap();
    let plain =
        |query: &str| format!("postgres://postgres:pw@127.0.0.1:{plain_port}/postgres?{query}");
    assert_eq!(uses_tls(&plain("sslmode=prefer")).await, Ok(false));
    let refused = uses_tls(&plain("sslmode=require")).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("TLS")),
        "{refused:?}"
    );
}
