//! Pull-through caches for the mirror tests: a real `docker-registry` in proxy mode
//! (`proxy: remoteurl`) in front of a real upstream registry, which it reaches with its own
//! username and password (token auth included); the cache may ask its own users too.

use super::registry::{Mode, RegistryServer};
use super::scenario::Target;

/// A distribution pull-through cache.
pub struct PullThrough {
    pub reg: RegistryServer,
}

impl PullThrough {
    /// A cache of `upstream`, logged in to it with the target's credentials, open to anyone.
    pub fn of(upstream: &Target) -> PullThrough {
        PullThrough::asking(upstream, &[])
    }

    /// The same, asking its own `users` for Basic credentials.
    pub fn asking(upstream: &Target, users: &[(&str, &str)]) -> PullThrough {
        let remote_url = upstream.reg.url();
        let reg = RegistryServer::start(Mode::PullThrough {
            remote_url: &remote_url,
            upstream_user: upstream.creds,
            users,
        });
        PullThrough { reg }
    }

    /// A cache of a registry that no longer answers (its port closed).
    pub fn of_nothing() -> PullThrough {
        let remote_url = format!("http://127.0.0.1:{}", super::free_port());
        let reg = RegistryServer::start(Mode::PullThrough {
            remote_url: &remote_url,
            upstream_user: None,
            users: &[],
        });
        PullThrough { reg }
    }

    pub fn host(&self) -> String {
        self.reg.host()
    }

    /// Whether the cache comes to store `digest` within a minute (polling): a pull-through
    /// registry commits a blob it served after the client already has every byte of it.
    pub fn holds_blob(&self, digest: &str) -> bool {
        let hex = digest.trim_start_matches("sha256:");
        let data = self
            .reg
            .storage_root()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !data.exists() {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        true
    }
}
