//! The desktop app under WebDriver: an X display (the caller's, or a private Xvfb), the app
//! binary built from this workspace, and `tauri-driver` (which drives the app's WebKit view
//! through `WebKitWebDriver`) in its own process group.
//!
//! Every process here is stopped when its guard is dropped, including when a test fails: the
//! WebDriver session is deleted ([`SessionGuard`]) before `tauri-driver`'s whole process group is
//! killed ([`TauriDriver`]), because killing the driver alone can leave the app and the native
//! driver running (see docs on tauri-driver's session handling).

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::emulator::{free_port, project_root};
use crate::error::{HarnessError, Result};

/// How long the driver or Xvfb may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The folder (ignored by git) where app tests leave screenshots and logs.
pub fn artifacts_dir() -> Result<PathBuf> {
    let dir = project_root().join("test-artifacts");
    std::fs::create_dir_all(&dir)
        .map_err(|e| HarnessError::during(&format!("create {}", dir.display()), &e))?;
    Ok(dir)
}

/// An X display for the app: `$DISPLAY` when set (e.g. under `xvfb-run -a`), otherwise a
/// private Xvfb server started here and stopped on drop.
#[derive(Debug)]
pub struct Display {
    name: String,
    server: Option<Child>,
}

impl Display {
    /// Uses `$DISPLAY`, or starts Xvfb. Fails (never skips) when neither is possible.
    pub fn acquire() -> Result<Display> {
        if let Some(name) = std::env::var("DISPLAY")
            .ok()
            .filter(|d| !d.trim().is_empty())
        {
            return Ok(Display { name, server: None });
        }
        Self::start_xvfb()
    }

    fn start_xvfb() -> Result<Display> {
        let number = (99..199)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .ok_or_else(|| HarnessError::new("no free X display number in :99..:198"))?;
        let name = format!(":{number}");
        let child = Command::new("Xvfb")
            .args([
                name.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                HarnessError::new(format!(
                    "the app tests need an X display: DISPLAY is not set and Xvfb could not be \
                     started ({e}). Run the tests under `xvfb-run -a`, or install xvfb \
                     (scripts/setup.sh)"
                ))
            })?;
        let mut display = Display {
            name,
            server: Some(child),
        };
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        let started = Instant::now();
        while !socket.exists() {
            if let Some(Ok(Some(status))) = display.server.as_mut().map(Child::try_wait) {
                return Err(HarnessError::new(format!(
                    "Xvfb {} exited during start-up ({status})",
                    display.name
                )));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(HarnessError::new(format!(
                    "Xvfb {} did not create {} in time",
                    display.name,
                    socket.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(display)
    }

    /// The display name for `DISPLAY`, e.g. `:99`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(child) = self.server.as_mut() {
            stop_group(child);
        }
    }
}

/// Builds the desktop app (`cargo build --workspace --bin countersign-app`, see
/// [`crate::binaries::build`]) and returns the binary's path, as cargo reports it (so
/// `CARGO_TARGET_DIR` and target-dir settings are honoured). Cheap when it is up to date. Uses
/// the `cargo` running the tests (`$CARGO`).
pub fn build_app() -> Result<PathBuf> {
    crate::binaries::build("countersign-app", "countersign-app", &[])
}

/// Builds `package`'s binary of the same name as a release, the way the Tauri bundler builds
/// the shipped app (`--release --features tauri/custom-protocol`), and returns its path.
pub fn build_release(package: &str) -> Result<PathBuf> {
    crate::binaries::build(
        package,
        package,
        &["--release", "--features", "tauri/custom-protocol"],
    )
}

/// A running `tauri-driver` on free loopback ports, in its own process group (with the
/// `WebKitWebDriver` and the app it starts). Dropping it kills the whole group.
#[derive(Debug)]
pub struct TauriDriver {
    child: Child,
    port: u16,
    log_path: PathBuf,
}

impl TauriDriver {
    /// Starts the driver on `display`; `env` is passed down to the native driver and so to the
    /// app it launches (e.g. `COUNTERSIGN_HOME`).
    pub fn start(display: &Display, env: &[(&str, &str)]) -> Result<TauriDriver> {
        let port = free_port()?;
        let native_port = loop {
            let p = free_port()?;
            if p != port {
                break p;
            }
        };
        let log_path = artifacts_dir()?.join("tauri-driver.log");
        let log = File::create(&log_path)
            .map_err(|e| HarnessError::during(&format!("create {}", log_path.display()), &e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| HarnessError::during("open the tauri-driver log", &e))?;
        let mut command = Command::new("tauri-driver");
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            // Not WEBKIT_DISABLE_DMABUF_RENDERER: under Xvfb it makes WebDriver screenshots hang.
            .env("DISPLAY", display.name())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .process_group(0);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().map_err(|e| {
            HarnessError::new(format!(
                "cannot start tauri-driver ({e}); install it with scripts/setup.sh \
                 (cargo install tauri-driver --version 2.1.0 --locked)"
            ))
        })?;
        let mut driver = TauriDriver {
            child,
            port,
            log_path,
        };
        let started = Instant::now();
        while TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(
                    driver.failure(&format!("tauri-driver exited during start-up ({status})"))
                );
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(driver.failure(&format!(
                    "tauri-driver did not listen on port {port} in time"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    pub(crate) fn failure(&self, what: &str) -> HarnessError {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        HarnessError::new(format!("{what}; {}:\n{log}", self.log_path.display()))
    }

    /// The WebDriver URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The WebDriver port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

/// The W3C capabilities that make tauri-driver launch `app` with `args`. Only `tauri:options`,
/// and only for `alwaysMatch` (tauri-driver does not rewrite `firstMatch`; an empty
/// `browserName` fails to match).
pub fn tauri_capabilities(app: &Path, args: &[&str]) -> serde_json::Map<String, serde_json::Value> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".to_owned(),
        serde_json::json!({ "application": app.display().to_string(), "args": args }),
    );
    caps
}

/// Deletes a WebDriver session when dropped, unless [`SessionGuard::disarm`]ed after a clean
/// close. Synchronous on purpose: it must work while a failing test unwinds.
#[derive(Debug)]
pub struct SessionGuard {
    port: u16,
    session: Option<String>,
}

impl SessionGuard {
    /// Guards `session` on the driver listening on `port`.
    pub fn new(port: u16, session: String) -> SessionGuard {
        SessionGuard {
            port,
            session: Some(session),
        }
    }

    /// The session was closed normally; nothing left to do.
    pub fn disarm(&mut self) {
        self.session = None;
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
        let request = format!(
            "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
        }
    }
}

/// SIGTERM to the child's process group, then SIGKILL if it has not gone within two seconds.
fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let signal = |sig: &str| {
        let _ = Command::new("kill")
            .args([sig, "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    };
    signal("-TERM");
    for _ in 0..100 {
        if let Ok(Some(_)) = child.try_wait() {
            // The leader is gone; make sure nothing it started outlives it.
            signal("-KILL");
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal("-KILL");
    let _ = child.kill();
    let _ = child.wait();
}

/// A stand-in for the desktop's file handler and browser in `dir/bin` (put it first on the
/// app's `PATH`): an `xdg-open` that records each thing it is asked to open, a line each, in
/// `dir/opened.txt`. Returns the folder and the record file.
pub fn recording_xdg_open(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin)
        .map_err(|e| HarnessError::during(&format!("create {}", bin.display()), &e))?;
    let record = dir.join("opened.txt");
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n",
            record.display()
        ),
    )
    .map_err(|e| HarnessError::during(&format!("write {}", script.display()), &e))?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| HarnessError::during(&format!("make {} executable", script.display()), &e))?;
    Ok((bin, record))
}
