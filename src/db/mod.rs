//! Connections to PostgreSQL: parsing and redacting database URLs, connecting, and the
//! servers that hold shadow databases (the embedded cluster or a `--dev-url` server).

mod desired;
pub mod embedded;
pub mod load;
pub mod shadow;
pub mod tls;
mod warm_edit;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config};

use crate::error::{Error, Result, describe_pg_error};

/// A random token of `bytes` bytes, as hex, from the operating system's generator (for
/// passwords that live only in memory).
pub fn random_token(bytes: usize) -> Result<String> {
    use std::io::Read as _;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| Error::io("/dev/urandom", e))?;
    Ok(hex::encode(buf))
}

/// A database to connect to. `Display` never shows the password.
#[derive(Clone)]
pub struct DbUrl {
    config: Config,
    tls: tls::TlsOptions,
}

impl DbUrl {
    pub fn from_config(config: Config) -> Self {
        Self {
            config,
            tls: tls::TlsOptions::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn dbname(&self) -> Option<&str> {
        self.config.get_dbname()
    }

    /// The same server, another database.
    pub fn with_dbname(&self, dbname: &str) -> Self {
        let mut config = self.config.clone();
        config.dbname(dbname);
        Self {
            config,
            tls: self.tls.clone(),
        }
    }

    /// The same server and database, as another role: only where to connect and how
    /// (hosts, ports, database, TLS, timeouts) carry over, not the original role's session
    /// options (`options=-c ...`), which the other role may not be allowed to set.
    pub fn with_login(&self, user: &str, password: &str) -> Self {
        let mut config = Config::new();
        for host in self.config.get_hosts() {
            match host {
                Host::Tcp(h) => config.host(h),
                Host::Unix(p) => config.host_path(p),
            };
        }
        for port in self.config.get_ports() {
            config.port(*port);
        }
        if let Some(db) = self.config.get_dbname() {
            config.dbname(db);
        }
        if let Some(t) = self.config.get_connect_timeout() {
            config.connect_timeout(*t);
        }
        config
            .ssl_mode(self.config.get_ssl_mode())
            .user(user)
            .password(password);
        Self {
            config,
            tls: self.tls.clone(),
        }
    }

    /// Connects (one attempt), spawning the connection's driver task.
    pub async fn connect(&self) -> Result<Client> {
        let mut config = self.config.clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("strata");
        }
        // A peer that vanished (a killed pod, a cut network) is noticed within about 25 s
        // rather than libpq's two hours, unless the URL says otherwise.
        if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
            config.keepalives_idle(Duration::from_secs(10));
        }
        if config.get_keepalives_interval().is_none() {
            config.keepalives_interval(Duration::from_secs(5));
        }
        if config.get_keepalives_retries().is_none() {
            config.keepalives_retries(3);
        }
        let connector = tls::connector(&self.tls)?;
        let (client, connection) = config.connect(connector).await.map_err(|e| {
            use tokio_postgres::error::SqlState;
            let retryable = e.as_db_error().is_none_or(|db| {
                [SqlState::CANNOT_CONNECT_NOW, SqlState::TOO_MANY_CONNECTIONS].contains(db.code())
            });
            let mut message = describe_pg_error(&e);
            if message.contains("UnknownIssuer") {
                message.push_str(
                    " (the server's certificate is not signed by the CA strata trusts: pass \
                     sslrootcert=<CA file> in the URL, or set PGSSLROOTCERT; \
                     sslrootcert=system trusts the public CAs)",
                );
            }
            Error::Connect {
                target: self.to_string(),
                message,
                retryable,
            }
        })?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection closed: {}", describe_pg_error(&e));
            }
        });
        Ok(client)
    }
}

impl FromStr for DbUrl {
    type Err = Error;

    /// Parses a `postgres://` URL or a `key=value` connection string. The error never
    /// repeats the input (it may hold a password).
    fn from_str(s: &str) -> Result<Self> {
        let s = &sqlalchemy_url(s);
        let (rewritten, tls) = tls::extract(s);
        let config = Config::from_str(&rewritten).map_err(|e| {
            Error::Config(format!(
                "not a valid database URL ({}); expected postgres://user:password@host:port/dbname",
                redact_parse_error(&e.to_string(), s)
            ))
        })?;
        Ok(Self { config, tls })
    }
}

/// A SQLAlchemy URL (`postgresql+asyncpg://`, `postgresql+psycopg://`, ...: what an
/// application configured for SQLAlchemy or Alembic holds) as libpq reads it: the `+driver`
/// part dropped, and asyncpg's `ssl=<mode>` read as `sslmode=<mode>`.
fn sqlalchemy_url(s: &str) -> String {
    let trimmed = s.trim_start();
    let Some((scheme, rest)) = trimmed.split_once("://") else {
        return s.to_owned();
    };
    let Some((base, driver)) = scheme.split_once('+') else {
        return s.to_owned();
    };
    if !matches!(base, "postgresql" | "postgres")
        || driver.is_empty()
        || !driver
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return s.to_owned();
    }
    let mut url = format!("{base}://{rest}");
    if let Some((head, query)) = url.clone().split_once('?') {
        let params: Vec<&str> = query.split('&').collect();
        if !params.iter().any(|p| p.starts_with("sslmode=")) {
            let params: Vec<String> = params
                .iter()
                .map(|p| match p.strip_prefix("ssl=") {
                    Some(mode) if !mode.is_empty() => format!("sslmode={mode}"),
                    _ => (*p).to_owned(),
                })
                .collect();
            url = format!("{head}?{}", params.join("&"));
        }
    }
    url
}

fn redact_parse_error(message: &str, input: &str) -> String {
    if input.is_empty() || !message.contains(input) {
        message.to_owned()
    } else {
        message.replace(input, "<url>")
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("postgresql://")?;
        if let Some(user) = self.config.get_user() {
            write!(f, "{user}")?;
            if self.config.get_password().is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let ports = self.config.get_ports();
        match (hosts.as_slice(), ports) {
            ([host], [port]) => write!(f, "{host}:{port}")?,
            (hosts, _) => f.write_str(&hosts.join(","))?,
        }
        if let Some(db) = self.config.get_dbname() {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

/// Connects to a database and reads its catalog.
pub async fn read_catalog(url: &DbUrl) -> Result<crate::model::Catalog> {
    crate::catalog::introspect_url(url).await
}

/// [`read_catalog`], with the dependencies left to the caller where they can be
/// ([`crate::catalog::introspect_url_deferred`]).
pub async fn read_catalog_deferred(url: &DbUrl) -> Result<crate::catalog::Deferred> {
    crate::catalog::introspect_url_deferred(url).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_never_shows_the_password() {
        let url: DbUrl = "postgres://app:s3cr3t-pw@db.example:5433/sovd"
            .parse()
            .unwrap();
        let shown = url.to_string();
        assert_eq!(shown, "postgresql://app:***@db.example:5433/sovd");
        assert!(!format!("{url:?}").contains("s3cr3t"));
    }

    #[test]
    fn sqlalchemy_urls_are_read_without_their_driver() {
        for (text, shown) in [
            (
                "postgresql+asyncpg://app:pw@db:5432/sovd",
                "postgresql://app:***@db:5432/sovd",
            ),
            (
                "postgresql+psycopg://app:pw@db/sovd",
                "postgresql://app:***@db:5432/sovd",
            ),
            (
                "postgres+psycopg2://app@db:6432/sovd?sslmode=disable",
                "postgresql://app@db:6432/sovd",
            ),
        ] {
            let url: DbUrl = text.parse().unwrap();
            assert_eq!(url.to_string(), shown, "{text}");
        }
        // asyncpg's ssl= is libpq's sslmode=.
        let url: DbUrl = "postgresql+asyncpg://app:pw@db/sovd?ssl=disable"
            .parse()
            .unwrap();
        assert_eq!(
            url.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable
        );
        // Other schemes are not rewritten.
        assert!("mysql+pymysql://app:pw@db/sovd".parse::<DbUrl>().is_err());
    }

    #[test]
    fn parse_error_does_not_echo_the_input() {
        let err = "postgres://app:s3cr3t@host:notaport/db"
            .parse::<DbUrl>()
            .unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }
}
