//! Real headless Chromium driven through Debian's chromedriver (WebDriver), with the flags that
//! keep it off the network, plus what every page check shares: screenshots saved as artifacts
//! and the check that a page requested nothing outside the server's origin.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

pub struct Browser {
    pub client: Client,
    _driver: Child,
    _profile: tempfile::TempDir,
    origin: String,
}

/// Where screenshots go: `EMBER_SCREENSHOT_DIR`, or the test target's scratch directory.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("EMBER_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"))
}

fn chromedriver() -> String {
    std::env::var("EMBER_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into())
}

fn chromium() -> String {
    std::env::var("EMBER_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Whether the browser tests may run: chromedriver answers and Chromium is installed (see
/// `ember_store::testing::skip_unless`).
pub fn available() -> bool {
    let driver_runs = std::process::Command::new(chromedriver())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    ember_store::testing::skip_unless(
        driver_runs && std::path::Path::new(&chromium()).exists(),
        "Chromium and chromedriver",
        "install them (Debian: apt install chromium chromium-driver) or name them in EMBER_CHROMIUM and EMBER_CHROMEDRIVER",
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver on a free port and opens a Chromium session for pages of `origin`.
    pub async fn start(origin: &str) -> Browser {
        Browser::start_in_zone(origin, "UTC").await
    }

    /// As `start`, with Chromium in the time zone `zone` (an IANA name).
    pub async fn start_in_zone(origin: &str, zone: &str) -> Browser {
        let port = free_port();
        let driver = Command::new(chromedriver())
            .env("TZ", zone)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver is installed (Debian: chromium-driver)");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                    "--window-size=1280,900", format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => break client,
                // chromedriver is still starting: poll until it answers.
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(error) => panic!("no Chromium session: {error}"),
            }
        };
        std::fs::create_dir_all(screenshot_dir()).unwrap();
        Browser { client, _driver: driver, _profile: profile, origin: origin.trim_end_matches('/').to_string() }
    }

    /// Opens a page and asserts it is not an error page.
    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.origin)).await.unwrap();
        self.assert_not_an_error_page().await;
    }

    pub async fn assert_not_an_error_page(&self) {
        if let Ok(heading) = self.client.find(Locator::Css("#error-page")).await {
            panic!("{} answered an error page: {}", self.current_path().await, heading.text().await.unwrap_or_default());
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    pub async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn current_path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        url.as_str().trim_start_matches(&self.origin).to_string()
    }

    /// Saves the page as `<name>.png` among the artifacts.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// Asserts that the page loaded nothing from another origin, and points nothing that would
    /// load (scripts, styles, images, frames, forms) at another origin.
    pub async fn assert_same_origin(&self) {
        // A form's `action` is read as its attribute: a field named `action` shadows the property.
        let script = "return performance.getEntriesByType('resource').map(e => e.name)\
            .concat(performance.getEntriesByType('navigation').map(e => e.name))\
            .concat(Array.from(document.querySelectorAll('script[src],img[src],iframe[src],source[src],embed[src],video[src],audio[src]')).map(e => e.src))\
            .concat(Array.from(document.querySelectorAll('link[href]')).map(e => e.href))\
            .concat(Array.from(document.querySelectorAll('form[action]')).map(e => new URL(e.getAttribute('action'), document.baseURI).href))\
            .concat(Array.from(document.querySelectorAll('[style*=\"url(\"]')).map(e => 'style:' + e.getAttribute('style')));";
        let urls = self.client.execute(script, vec![]).await.unwrap();
        let urls: Vec<String> = serde_json::from_value(urls).unwrap();
        assert!(!urls.is_empty(), "the page itself is listed");
        for url in urls {
            assert!(url.starts_with(&format!("{}/", self.origin)), "{url} is outside {}", self.origin);
        }
    }

    /// Waits until the element matching `css` exists (after a navigation a form caused), or an
    /// error page came instead, which fails.
    pub async fn wait_for(&self, css: &str) {
        let either = format!("{css}, #error-page");
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(&either))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        self.assert_not_an_error_page().await;
    }

    /// Waits until the element matching `css` shows `text` (script-made content, such as the
    /// filter box's completions); fails after 20 s with what it showed.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let shown = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if shown.contains(text) {
                return;
            }
            assert!(Instant::now() < deadline, "{css} never showed {text:?}; it shows {shown:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn close(self) {
        self.client.close().await.unwrap();
    }
}
