//! [`PullDestination`]: where a pull lands and the steps that finish it — naming the image in
//! the layout, building a tarball from the working layout, removing that working layout.
//! It decides nothing about arguments: the command says where, this does the writing.

use crate::image::Descriptor;
use crate::store::layout::Layout;
use crate::store::{ArchiveOptions, LayerForm, WorkDir};
use anyhow::Context;
use std::path::{Path, PathBuf};

pub struct PullDestination {
    layout: Layout,
    /// For a tarball: the working layout's claim, and the file it ends up in.
    archive: Option<(WorkDir, PathBuf)>,
}

impl PullDestination {
    /// The OCI layout at `dir` (the store, or `--output DIR`), created if need be.
    pub async fn layout(dir: &Path) -> anyhow::Result<PullDestination> {
        let layout = Layout::create_or_open(dir)
            .await
            .with_context(|| format!("preparing {}", dir.display()))?;
        Ok(PullDestination {
            layout,
            archive: None,
        })
    }

    /// A docker-archive at `file`, built from a working layout beside it that other pulls to
    /// the same tarball share; the last one out removes it.
    pub async fn docker_archive(file: &Path) -> anyhow::Result<PullDestination> {
        let dir = work_dir_for(file);
        let work = WorkDir::enter(&dir)
            .await
            .with_context(|| format!("preparing {}", dir.display()))?;
        let mut destination = PullDestination::layout(&dir).await?;
        destination.archive = Some((work, file.to_path_buf()));
        Ok(destination)
    }

    /// Where blobs are written while the pull runs.
    pub fn working_layout(&self) -> &Layout {
        &self.layout
    }

    /// What the user will find: the layout directory or the tarball.
    pub fn place(&self) -> &Path {
        match &self.archive {
            Some((_, file)) => file,
            None => self.layout.root(),
        }
    }

    /// Names the image `name` in the layout, and for a tarball writes it (tagged `repo_tags`)
    /// and removes the working layout.
    pub async fn finish(
        self,
        name: &str,
        stored: &Descriptor,
        repo_tags: Vec<String>,
    ) -> anyhow::Result<()> {
        self.layout.set_image(name, stored).await?;
        let Some((work, file)) = self.archive else {
            return Ok(());
        };
        let manifest = self.layout.read_blob_bytes(&stored.digest).await?;
        let options = ArchiveOptions {
            repo_tags,
            layer_form: LayerForm::AsStored,
            temp_dir: Some(work.temp_dir()),
        };
        crate::store::write_docker_archive(&self.layout, &manifest, &options, &file)
            .await
            .with_context(|| format!("writing {}", file.display()))?;
        let dir = work.root().to_path_buf();
        work.leave()
            .await
            .with_context(|| format!("removing {}", dir.display()))
    }
}

fn work_dir_for(archive: &Path) -> PathBuf {
    let mut name = archive.file_name().unwrap_or_default().to_os_string();
    name.push(".hoist-partial");
    archive.with_file_name(name)
}
