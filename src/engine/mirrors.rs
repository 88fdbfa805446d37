//! Pulling through mirrors: the image's endpoints in order (each mirror, then the registry),
//! its manifests from the first that serves them, and each blob from the first that serves
//! bytes matching its digest. A mirror that fails in any way (unreachable, 5xx, 404, wrong
//! bytes) is passed over with a one-line note; the registry's own failure is the pull's.
//! Push never comes here. It writes nothing to the terminal: notes go to the caller's [`Note`].

use super::pull::{self, Plan};
use super::remote::{self, RemoteImage};
use crate::image::platform::PlatformChoice;
use crate::image::source::cut;
use crate::image::{self, BlobReader, RawManifest, WholeBlobInstead};
use crate::reference::Reference;
use crate::registry::RegistryClient;
use crate::types::Digest;
use futures_util::future::BoxFuture;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Told, one line each, when a mirror is passed over.
pub type Note = Arc<dyn Fn(&str) + Send + Sync>;

/// One place the image can be pulled from.
pub struct Endpoint {
    pub client: Arc<RegistryClient>,
    /// The image's reference there (a mirror's host and path, the same tag or digest).
    pub reference: Reference,
    pub is_mirror: bool,
}

impl Endpoint {
    /// `host[:port]`: what `--debug`, `--json` and the notes call it.
    pub fn label(&self) -> String {
        self.reference.registry().to_string()
    }
}

/// The endpoints of one pull, and which of them served its manifest.
pub struct Endpoints {
    list: Arc<Vec<Endpoint>>,
    serving: usize,
    note: Note,
    /// Which endpoint served each blob written, by label (only when mirrors are in play).
    served: Arc<Mutex<HashMap<Digest, String>>>,
}

impl Endpoints {
    /// Mirrors first, in order, the registry last.
    pub fn new(list: Vec<Endpoint>, note: Note) -> Endpoints {
        Endpoints {
            list: Arc::new(list),
            serving: 0,
            note,
            served: Arc::default(),
        }
    }

    /// Whether any mirror is configured: only then do `--json` and `--debug` name sources.
    pub fn has_mirrors(&self) -> bool {
        self.list.len() > 1
    }

    /// The endpoint whose bytes of `digest` were written, if a transfer wrote it.
    pub fn served(&self, digest: &Digest) -> Option<String> {
        let served = self.served.lock().unwrap_or_else(|e| e.into_inner());
        served.get(digest).cloned()
    }

    /// The endpoint that served the manifest (after [`Endpoints::resolve`]).
    pub fn serving(&self) -> &Endpoint {
        &self.list[self.serving]
    }

    /// [`pull::resolve`] against each endpoint in turn until one serves the manifest.
    pub async fn resolve(&mut self, platform: &PlatformChoice) -> anyhow::Result<Plan> {
        for (i, endpoint) in self.list.iter().enumerate() {
            match pull::resolve(&endpoint.client, &endpoint.reference, platform).await {
                Ok(plan) => {
                    self.serving = i;
                    return Ok(plan);
                }
                Err(e) if endpoint.is_mirror => {
                    let next = self.list.get(i + 1).map(Endpoint::label);
                    (self.note)(&passed_over(endpoint, &e, next.as_deref()));
                }
                Err(e) => return Err(e),
            }
        }
        anyhow::bail!("no registry to pull from")
    }

    /// The transfer's source: a plain registry image when no mirror is in play, else one that
    /// falls through the endpoints from the serving one on, blob by blob.
    pub fn source(&self, top: RawManifest, children: Vec<RawManifest>) -> Arc<dyn image::Source> {
        let serving = self.serving();
        if self.list.len() == 1 {
            let (client, reference) = (serving.client.clone(), &serving.reference);
            return Arc::new(RemoteImage::resolved(client, reference, top, children));
        }
        Arc::new(MirroredImage {
            endpoints: self.list.clone(),
            first: self.serving,
            top,
            children,
            note: self.note.clone(),
            state: Arc::new(Mutex::new(BlobState::default())),
            served_by: self.served.clone(),
        })
    }
}

/// `mirror 127.0.0.1:5001 passed over (cannot connect …); trying 127.0.0.1:5000`.
fn passed_over(endpoint: &Endpoint, error: &anyhow::Error, next: Option<&str>) -> String {
    let why = crate::types::escape_control(&one_line(error)).into_owned();
    let next = next.map(|n| format!("; trying {n}")).unwrap_or_default();
    format!("mirror {} passed over ({why}){next}", endpoint.label())
}

/// The innermost cause that says something, on one line.
fn one_line(error: &anyhow::Error) -> String {
    let registry = error
        .chain()
        .find_map(|c| c.downcast_ref::<crate::registry::RegistryError>());
    match registry {
        Some(e) => e.unreachable().unwrap_or_else(|| e.to_string()),
        None => error.to_string(),
    }
    .replace('\n', " ")
}

fn lock(state: &Mutex<BlobState>) -> std::sync::MutexGuard<'_, BlobState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
struct BlobState {
    /// Endpoints whose bytes of a blob did not match its digest, or that failed to open it.
    passed: HashSet<(Digest, usize)>,
    /// The endpoint the bytes being written came from, per blob.
    current: HashMap<Digest, usize>,
}

/// A registry image read through its mirrors: blob by blob, the first endpoint (from the one
/// that served the manifest on) that serves bytes matching the digest.
struct MirroredImage {
    endpoints: Arc<Vec<Endpoint>>,
    first: usize,
    top: RawManifest,
    children: Vec<RawManifest>,
    note: Note,
    state: Arc<Mutex<BlobState>>,
    served_by: Arc<Mutex<HashMap<Digest, String>>>,
}

impl image::Source for MirroredImage {
    fn top(&self) -> &RawManifest {
        &self.top
    }

    fn children(&self) -> &[RawManifest] {
        &self.children
    }

    fn open_blob(
        &self,
        digest: &Digest,
        offset: u64,
    ) -> BoxFuture<'static, std::io::Result<BlobReader>> {
        let endpoints = self.endpoints.clone();
        let (first, note) = (self.first, self.note.clone());
        let (state, served_by) = (self.state.clone(), self.served_by.clone());
        let digest = digest.clone();
        Box::pin(async move {
            let mut last_error = None;
            for (i, endpoint) in endpoints.iter().enumerate().skip(first) {
                let (passed, previous) = {
                    let st = lock(&state);
                    let previous = st.current.get(&digest).copied();
                    let failed = |p: usize| st.passed.contains(&(digest.clone(), p));
                    (failed(i), previous.filter(|&p| p != i && failed(p)))
                };
                if passed {
                    continue;
                }
                // The bytes written so far came from a mirror that failed this blob.
                let from = if previous.is_some() { 0 } else { offset };
                let repository = endpoint.reference.repository();
                match endpoint.client.get_blob(repository, &digest, from).await {
                    Ok(download) => {
                        lock(&state).current.insert(digest.clone(), i);
                        let served_from = download.offset;
                        let mut reader = remote::body_reader(download);
                        if endpoint.is_mirror && served_from == 0 {
                            let next = endpoints.get(i + 1).map(Endpoint::label);
                            let line = format!(
                                "mirror {} sent bytes that do not match {digest}; trying {}",
                                endpoint.label(),
                                next.unwrap_or_default()
                            );
                            let (state, note, digest) =
                                (state.clone(), note.clone(), digest.clone());
                            // A mismatch is a cut: the destination asks again, and the
                            // next endpoint starts the blob over.
                            let expected = digest.clone();
                            reader = Box::new(image::Verified::new(reader, expected).on_mismatch(
                                Box::new(move |_| {
                                    lock(&state).passed.insert((digest.clone(), i));
                                    note(&line);
                                    cut(format!("the mirror's bytes do not match {digest}"))
                                }),
                            ));
                        }
                        let mut served = served_by.lock().unwrap_or_else(|e| e.into_inner());
                        served.insert(digest.clone(), endpoint.label());
                        drop(served);
                        if served_from != offset {
                            return Err(WholeBlobInstead::error(offset, reader));
                        }
                        return Ok(reader);
                    }
                    Err(e) if endpoint.is_mirror => {
                        lock(&state).passed.insert((digest.clone(), i));
                        let next = endpoints.get(i + 1).map(Endpoint::label);
                        let error = anyhow::Error::from(e);
                        note(&passed_over(endpoint, &error, next.as_deref()));
                        last_error = Some(error);
                    }
                    Err(e) => return Err(std::io::Error::other(e)),
                }
            }
            let error =
                last_error.unwrap_or_else(|| anyhow::anyhow!("no source left for {digest}"));
            Err(std::io::Error::other(format!("{error:#}")))
        })
    }
}
