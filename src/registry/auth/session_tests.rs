//! Unit tests of the session: secret headers, the credential lookup.
use super::*;
use crate::credentials::CredentialFuture;
use std::sync::Mutex;

/// A helper that blocks until told to go on, and notes on which thread and how often it ran.
struct SlowHelper {
    started: tokio::sync::mpsc::UnboundedSender<std::thread::ThreadId>,
    go_on: Mutex<std::sync::mpsc::Receiver<()>>,
    calls: Mutex<u32>,
}

impl CredentialSource for SlowHelper {
    /// Like a real helper source: the blocking part runs in `spawn_blocking`.
    fn credential_for(self: Arc<Self>, _: Registry) -> CredentialFuture {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                *self.calls.lock().unwrap() += 1;
                let _ = self.started.send(std::thread::current().id());
                self.go_on.lock().unwrap().recv()?;
                Ok(Some(Credential::RegistryToken(Secret::new("t"))))
            })
            .await?
        })
    }
}

/// Credential helpers run off the async runtime, once for all concurrent requests, and
/// with no lock held: the state lock stays free while the helper runs.
#[tokio::test(flavor = "current_thread")]
async fn credential_lookup_runs_once_off_the_runtime_without_the_lock() {
    let (started, mut started_rx) = tokio::sync::mpsc::unbounded_channel();
    let (go_on, go_on_rx) = std::sync::mpsc::channel();
    let helper = Arc::new(SlowHelper {
        started,
        go_on: Mutex::new(go_on_rx),
        calls: Mutex::new(0),
    });
    let registry = Registry::new("registry.example");
    let session = Session::new(registry, helper.clone(), vec![]);
    let lookups =
        futures_util::future::join_all((0..4).map(|_| session.credential(None, Duration::ZERO)));
    let check = async {
        // The helper is running, on another thread, and this runtime thread is free.
        let thread = started_rx.recv().await.unwrap();
        assert_ne!(thread, std::thread::current().id());
        assert!(session.state.try_lock().is_ok(), "the state lock is held");
        go_on.send(()).unwrap();
    };
    let (found, ()) = tokio::join!(lookups, check);
    for credential in found {
        assert!(matches!(
            credential.unwrap(),
            Some(Credential::RegistryToken(_))
        ));
    }
    assert_eq!(*helper.calls.lock().unwrap(), 1);
}

#[test]
fn basic_header_is_secret() {
    let h = basic_header("u", &Secret::new("p"));
    assert_eq!(h.expose(), "Basic dTpw");
    assert!(!format!("{h:?}").contains("dTpw"));
}
