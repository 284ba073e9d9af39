//! What every handler can reach: the ports, and the templates.

use std::sync::Arc;

use taquilla_core::blobs::{Blobs, SignedBlobs};
use taquilla_core::clock::Clock;
use taquilla_core::mailer::Mailer;
use taquilla_core::secrets::SecretKey;
use taquilla_core::store::ItemStore;

use crate::pages::Pages;

/// The ports and shared read-only state, cheap to clone into every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn Blobs>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    /// Present when blobs are served by this server (the embedded default).
    pub signed_blobs: Option<Arc<dyn SignedBlobs>>,
    pub pages: Arc<Pages>,
    /// `master.derive(Purpose::AgentTokens)`: each instance's agent-token
    /// key derives from it (`services::tokens`).
    pub token_key: Arc<SecretKey>,
    /// `master.derive(Purpose::ReplyTokens)`: signs and checks the reply
    /// tokens of mail addresses (`taquilla_mail::reply_token`).
    pub reply_key: Arc<SecretKey>,
}
