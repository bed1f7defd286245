//! The app's window under WebDriver (fantoccini), as the app tests and the start-up benchmark
//! drive it: waits that say what they waited for, and screenshots taken once the last change to
//! the page has been painted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::webdriver::{artifacts_dir, tauri_capabilities, Display, SessionGuard, TauriDriver};
use crate::{HarnessError, Result};

/// The app's window under WebDriver. Dropping it deletes the session, then stops the driver
/// and the app, also when a test fails; [`AppWindow::close`] ends it cleanly.
#[derive(Debug)]
pub struct AppWindow {
    /// The WebDriver client of the window.
    pub client: Client,
    guard: SessionGuard,
    driver: TauriDriver,
}

impl AppWindow {
    /// Starts `app` on `display` with `env` through `tauri-driver` and opens its window.
    pub async fn open(display: &Display, app: &Path, env: &[(&str, &str)]) -> Result<AppWindow> {
        let (driver, client) = start_session(display, app, env).await?;
        let session = client
            .session_id()
            .await
            .ok()
            .flatten()
            .ok_or_else(|| HarnessError::new("the WebDriver session has no id"))?;
        let guard = SessionGuard::new(driver.port(), session);
        Ok(AppWindow {
            client,
            guard,
            driver,
        })
    }

    /// Closes the session and stops the app.
    pub async fn close(mut self) -> Result<()> {
        self.client
            .clone()
            .close()
            .await
            .map_err(|e| HarnessError::new(format!("close the WebDriver session: {e}")))?;
        self.guard.disarm();
        drop(self.driver);
        Ok(())
    }
}

/// How many times a driver is started before a session that cannot be opened fails the test.
const SESSION_ATTEMPTS: usize = 3;

/// Starts `tauri-driver` on `display` with `env` and opens a WebDriver session for `app`. A
/// driver that listens but does not answer the session request (its native WebKit driver lost
/// the race for the port it was given, or did not come up on a loaded machine) is stopped and
/// a new one started on other ports; after the last attempt the error carries the driver's log.
pub async fn start_session(
    display: &Display,
    app: &Path,
    env: &[(&str, &str)],
) -> Result<(TauriDriver, Client)> {
    let mut failure = HarnessError::new("no WebDriver session was attempted");
    for _ in 0..SESSION_ATTEMPTS {
        let driver = TauriDriver::start(display, env)?;
        let connected = ClientBuilder::rustls()
            .map_err(|e| HarnessError::new(format!("a WebDriver client: {e}")))?
            .capabilities(tauri_capabilities(app, &[]))
            .connect(&driver.url())
            .await;
        match connected {
            Ok(client) => return Ok((driver, client)),
            Err(e) => {
                failure = driver.failure(&format!(
                    "open a WebDriver session on {}: {e}",
                    driver.url()
                ));
                drop(driver);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    Err(failure)
}

/// Runs `script` in the window with `args`; its return value.
pub async fn run_js(client: &Client, script: &str, args: Vec<Value>) -> Result<Value> {
    client
        .execute(script, args)
        .await
        .map_err(|e| HarnessError::new(format!("run {script}: {e}")))
}

/// Sets a field's value as typing would (text inputs, text areas, selects), firing `input` and
/// `change` so the screen reacts.
pub async fn set(client: &Client, css: &str, value: &str) -> Result<()> {
    wait_for(client, css).await?;
    run_js(
        client,
        "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
         el.dispatchEvent(new Event('input', {bubbles: true})); \
         el.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(css), json!(value)],
    )
    .await
    .map(|_| ())
}

/// The text of the element matching `css`, once it is in the page.
pub async fn text_of(client: &Client, css: &str) -> Result<String> {
    wait_for(client, css)
        .await?
        .text()
        .await
        .map_err(|e| HarnessError::new(format!("read the text of {css}: {e}")))
}

/// Polls `script` every 200 ms until it returns `want`, for at most [`WAIT`].
pub async fn wait_value(client: &Client, script: &str, want: Value) -> Result<()> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let last = run_js(client, script, vec![]).await?;
        if last == want {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(HarnessError::new(format!(
                "{script} stayed at {last}, expected {want}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How long a test waits for the window before it gives up.
pub const WAIT: Duration = Duration::from_secs(60);

/// The element matching `css`, once it is in the page.
pub async fn wait_for(client: &Client, css: &str) -> Result<Element> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let found = client
            .wait()
            .at_most(left.max(std::time::Duration::from_millis(100)))
            .for_element(Locator::Css(css))
            .await;
        match found {
            // A list that draws its rows again can replace the node between finding it and
            // taking its handle: look again rather than fail on the node that went away.
            Err(e) if is_stale(&e) && std::time::Instant::now() < deadline => continue,
            found => return on_timeout(client, css, found).await,
        }
    }
}

fn is_stale(e: &fantoccini::error::CmdError) -> bool {
    // WebKit's driver words it "Stale element found when trying to create the node handle".
    e.is_stale_element_reference() || e.to_string().contains("Stale element")
}

/// The element found, or the failure with a screenshot of what the window showed instead.
async fn on_timeout(
    client: &Client,
    css: &str,
    found: std::result::Result<Element, fantoccini::error::CmdError>,
) -> Result<Element> {
    match found {
        Ok(element) => Ok(element),
        Err(e) => {
            // What the window showed instead, for the one reading the failure.
            let stem: String = css
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let shot = screenshot(client, &format!("timeout-{stem}")).await;
            let saved = shot.map_or_else(
                |_| String::new(),
                |p| format!(" (the window then: {})", p.display()),
            );
            Err(HarnessError::new(format!("waiting for {css}: {e}{saved}")))
        }
    }
}

/// Clicks the element matching `css`. A list that draws its rows again (a filter applied, a
/// page arrived) can replace the element between finding and clicking it; the click then
/// finds the element again rather than failing on the node that went away. An element WebKit
/// calls not interactable (at the window's edge) is scrolled to the middle and clicked again.
pub async fn click(client: &Client, css: &str) -> Result<()> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let element = wait_for(client, css).await?;
        match element.click().await {
            Ok(()) => return Ok(()),
            Err(e)
                if (e.is_stale_element_reference()
                    || e.is_no_such_element()
                    || e.is_element_not_interactable())
                    && std::time::Instant::now() < deadline =>
            {
                if e.is_element_not_interactable() {
                    let reference = serde_json::to_value(&element).map_err(|e| {
                        HarnessError::new(format!("refer to {css} in a script: {e}"))
                    })?;
                    client
                        .execute(
                            "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});",
                            vec![reference],
                        )
                        .await
                        .map_err(|e| HarnessError::new(format!("scroll to {css}: {e}")))?;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(HarnessError::new(format!("click {css}: {e} ({e:?})"))),
        }
    }
}

/// Saves a screenshot of the window as `test-artifacts/<stem>.png`, after two animation frames
/// (so the capture shows the last change to the page, not the frame before it).
pub async fn screenshot(client: &Client, stem: &str) -> Result<PathBuf> {
    client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await
        .map_err(|e| HarnessError::new(format!("wait for a painted frame before {stem}: {e}")))?;
    let png = tokio::time::timeout(WAIT, client.screenshot())
        .await
        .map_err(|_| HarnessError::new(format!("the screenshot {stem} did not come back")))?
        .map_err(|e| HarnessError::new(format!("take the screenshot {stem}: {e}")))?;
    let path = artifacts_dir()?.join(format!("{stem}.png"));
    std::fs::write(&path, png)
        .map_err(|e| HarnessError::during(&format!("write {}", path.display()), &e))?;
    Ok(path)
}
