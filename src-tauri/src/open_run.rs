//! The run open on the review screen, kept so that its cases can be paged to the window
//! without reading and verifying the run again for every page.

use std::sync::{Arc, Mutex};

use countersign_service::{RunView, Service, ServiceError};

/// The run last opened for review (read and verified when it was opened).
#[derive(Debug, Default)]
pub struct OpenRun(Mutex<Option<Arc<RunView>>>);

impl OpenRun {
    /// Reads the run from the store (verifying every file) and keeps it.
    pub fn open(&self, service: &Service, run: &str) -> Result<Arc<RunView>, ServiceError> {
        let view = Arc::new(service.show(run)?);
        *self.slot()? = Some(Arc::clone(&view));
        Ok(view)
    }

    /// The kept run when it is `run` (full or short id), else the run freshly opened.
    pub fn view(&self, service: &Service, run: &str) -> Result<Arc<RunView>, ServiceError> {
        let kept = self.slot()?.as_ref().and_then(|v| {
            (v.summary.id == run || v.summary.key.run_id == run).then(|| Arc::clone(v))
        });
        match kept {
            Some(v) => Ok(v),
            None => self.open(service, run),
        }
    }

    fn slot(&self) -> Result<std::sync::MutexGuard<'_, Option<Arc<RunView>>>, ServiceError> {
        self.0
            .lock()
            .map_err(|_| ServiceError::storage("the open run is unavailable; open it again"))
    }
}
