//! Pushing images, for every front end: the CLI's `push` and the Docker
//! API's `POST /images/{name}/push`. Credentials as for a pull (the
//! request's, the credentials file, its helpers); each blob's fate goes to
//! a callback; the `push` event says it is done.

use crate::error::Result;
use crate::pull::RegistryAuth;
use crate::Engine;
use hull_image::digest::Digest;
use hull_image::reference::Reference;
pub use hull_image::registry::BlobPush;

/// Told of each layer before and after its upload.
pub type PushProgress<'a> = &'a dyn Fn(&Digest, BlobPush);

/// A push.
pub struct PushRequest<'a> {
    /// The image, by the name that says where it goes.
    pub reference: String,
    /// Credentials for this request.
    pub auth: Option<RegistryAuth>,
    /// Each blob before and after its upload.
    pub progress: Option<PushProgress<'a>>,
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The full reference pushed.
    pub reference: String,
    /// The tag (docker's `latest` when the name has none).
    pub tag: String,
    /// The manifest's digest.
    pub digest: String,
    /// The manifest's size in bytes.
    pub size: u64,
}

impl Engine {
    /// Pushes an image from the store to its registry.
    pub fn push(&self, req: PushRequest) -> Result<Pushed> {
        let mut r: Reference = req.reference.parse().map_err(hull_image::images::ImageError::from)?;
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some("latest".into());
        }
        // By the name as given: its error names what the user typed.
        let img = self.images.resolve(&req.reference)?;
        let client = self.registry_client(&r, req.auth.as_ref());
        let quiet = |_: &Digest, _: BlobPush| {};
        client.push_with(&self.images.store, &img.target, &r, req.progress.unwrap_or(&quiet))?;
        let size = self.images.store.read_blob(&img.target).map(|b| b.len() as u64).unwrap_or(0);
        let name = r.to_string();
        self.emit("image", "push", &name, [("name".to_string(), name.clone())].into());
        Ok(Pushed { reference: name, tag: r.tag.unwrap_or_default(), digest: img.target.to_string(), size })
    }
}
