//! The clerk app's speed (issue 14): page render times with many records on the node, and a
//! registration through the form, end to end over HTTP.
//!
//! ```text
//! cargo bench -p civreg-node --bench web_bench                      # 200,000 records (default)
//! cargo bench -p civreg-node --bench web_bench -- --records 20000   # smaller, quicker
//! ```
//!
//! - *Data*: births generated here from short fixed name lists (Albanian and Serbian, Latin and
//!   Cyrillic), imported with `import::import_csv` (as `civreg-node import` does) into a sled
//!   database in a temporary directory. Not the project's `synth` population.
//! - *Client*: plain HTTP/1.1 over loopback from this process (one request at a time, a new
//!   connection each, `Connection: close`), after signing in as a clerk; the app runs exactly as
//!   `civreg-node serve` runs it (`civreg_node::web::serve` on a multi-thread tokio runtime).
//!   Times are from writing the request to reading the whole answer. No browser: the browser's
//!   own layout and script time are not included.
//! - *Registration*: `POST /register/birth` of a new child (the duplicate check included, which
//!   searches the node's 200,000 records), then `GET` of the record page it redirects to.
//! - *Before and after* (the default): the search pages and the registration are
//!   measured with the index's letter-set test before the typo distance switched off ("before")
//!   and on ("after"), the requests interleaved one by one in the same run, so both see the same
//!   machine. `--after-only` skips the "before" rows. `--before prefix` makes "before" the
//!   index's old lookup of the words a query word begins (every longer word of the vocabulary
//!   compared) instead, the letter-set test staying on; `--before rank` the per-candidate
//!   ranking without its shortcuts (`index::set_fast_rank(false)`: a SipHash lookup per name
//!   word, every candidate's rank kept to the end).
//! - *In a browser* (`--browser`, after the rows above): headless Chromium (Debian's `chromium`
//!   and `chromedriver`, through `civreg_testkit::browser`) signs in through the login page and
//!   opens each page; then registers births through the form (fields set by script, then the
//!   save button clicked, as a clerk's click). Each figure is the browser's own Navigation
//!   Timing of the page it ends on: from the start of the navigation (the click, for a
//!   registration: the POST with its duplicate check and save, the redirect, the record page)
//!   to the end of its `load` event, so the browser's parsing, style, layout and the app's
//!   script are included. WebDriver's own round trips are not.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use civreg_node::control::Served;
use civreg_node::node::{Node, Paths};
use civreg_node::web::{Context, Settings};
use civreg_node::worker::Live;

const CLERK: &str = "drita";
const PASSWORD: &str = "drita-long-password";

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| {
                v.strip_prefix(&format!("{name}="))
                    .map(|r| r.split(';').next().unwrap_or("").to_string())
            })
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: &str,
    form: Option<&[(&str, &str)]>,
) -> Answer {
    let body = form
        .map(|f| serde_urlencoded::to_string(f).expect("form"))
        .unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if form.is_some() {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(req.as_bytes()).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .expect("hidden field");
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').expect("end")].to_string()
}

fn percentiles(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(v[((v.len() as f64 * q) as usize).min(v.len() - 1)]);
    (at(0.5), at(0.99), ms(*v.last().unwrap()))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let records: usize = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = Paths::new(dir.path(), None);
    Node::init(&paths, "prishtine", "1").expect("init");
    let node = Node::open(&paths).expect("open");
    node.add_clerk(None, CLERK, PASSWORD).expect("clerk");

    // The data: births of many names (no digits in names), imported as a clerk would.
    let given = [
        "Arben",
        "Drita",
        "Besnik",
        "Vjosa",
        "Ђорђе",
        "Милица",
        "Marko",
        "Jelena",
        "Agim",
        "Shpresa",
        "Dragan",
        "Fatime",
    ];
    let surnames = [
        "Gashi",
        "Krasniqi",
        "Berisha",
        "Hoxha",
        "Јовановић",
        "Петровић",
        "Nikolić",
        "Morina",
        "Bytyqi",
        "Ђорђевић",
        "Shala",
        "Kelmendi",
    ];
    let letters = |mut i: usize| {
        let mut s = String::new();
        for _ in 0..4 {
            s.push(char::from(b'a' + (i % 26) as u8));
            i /= 26;
        }
        s
    };
    let mut csv = String::from("kind,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname\n");
    for i in 0..records {
        let g = given[i % given.len()];
        let s = surnames[(i / given.len()) % surnames.len()];
        csv.push_str(&format!(
            "birth,{g}{},{s},{},{}-{:02}-{:02},Prishtinë,{},{s}\n",
            letters(i),
            if i % 2 == 0 { "male" } else { "female" },
            1950 + (i % 70),
            1 + (i % 12),
            1 + (i % 28),
            given[(i + 1) % given.len()],
        ));
    }
    let clerk = node.authenticate(CLERK, PASSWORD).expect("sign in");
    let t = Instant::now();
    let report =
        civreg_node::import::import_csv(&node, &clerk, csv.as_bytes(), |_| {}).expect("import");
    assert_eq!(
        report.accepted.len(),
        records,
        "rejected: {:?}",
        report.rejected.first()
    );
    eprintln!(
        "imported {records} births in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let some_regno = report.accepted[records / 2].regno.clone();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let node = Arc::new(node);
    let served = Arc::new(Served {
        node: node.clone(),
        paths,
        live: Arc::new(Live::new(dir.path(), "https://localhost:1")),
        runtime: rt.handle().clone(),
        sessions: Default::default(),
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let ctx = Context::new(served, Settings::default());
    rt.spawn(civreg_node::web::serve(
        listener,
        ctx,
        std::future::pending(),
    ));

    // Sign in as the app's page does.
    let login = request(&addr, "GET", "/login", "", None);
    let login_cookie = format!(
        "civreg_login={}",
        login.cookie("civreg_login").expect("login cookie")
    );
    let token = hidden(&login.body, "_csrf");
    let res = request(
        &addr,
        "POST",
        "/login",
        &login_cookie,
        Some(&[("name", CLERK), ("password", PASSWORD), ("_csrf", &token)]),
    );
    let cookie = format!(
        "civreg_clerk={}",
        res.cookie("civreg_clerk").expect("session")
    );
    let home = request(&addr, "GET", "/", &cookie, None);
    assert_eq!(home.status, 200);
    let csrf = hidden(&home.body, "_csrf");

    let n = 200;
    let pages = [
        ("start page (today's work)", "/".to_string()),
        ("birth form", "/register/birth".to_string()),
        ("record page", format!("/record/{some_regno}")),
        ("search, a name", "/search?q=Krasniqi".to_string()),
        (
            "search, Cyrillic name and year",
            "/search?q=%D0%88%D0%BE%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B8%D1%9B+1960".to_string(),
        ),
        (
            "search as you type (JSON)",
            "/search.json?q=Gash".to_string(),
        ),
    ];
    // (label, letter-set test on) for each row: before and after, interleaved.
    let modes: &[(&str, bool)] = if args.iter().any(|a| a == "--after-only") {
        &[("", true)]
    } else {
        &[("before: ", false), ("after: ", true)]
    };
    // What "before" switches off: the letter-set test (default); with `--before prefix`, the
    // sorted lookup of the words a query word begins; with `--before rank`, the per-candidate
    // ranking's shortcuts.
    let before = args
        .windows(2)
        .find(|a| a[0] == "--before")
        .map(|a| a[1].as_str());
    let switch = |on: bool| match before {
        Some("prefix") => civreg_node::index::set_prefix_range(on),
        Some("rank") => civreg_node::index::set_fast_rank(on),
        Some(other) => panic!("--before {other}: use prefix or rank (or leave it out)"),
        None => civreg_node::index::set_typo_prefilter(on),
    };
    println!("| page ({records} records on the node, {n} requests each) | median | p99 | max |");
    println!("|---|---|---|---|");
    for (what, path) in &pages {
        let mut times = vec![Vec::with_capacity(n); modes.len()];
        for _ in 0..n {
            for (m, (_, on)) in modes.iter().enumerate() {
                switch(*on);
                let t = Instant::now();
                let r = request(&addr, "GET", path, &cookie, None);
                times[m].push(t.elapsed());
                assert_eq!(
                    r.status,
                    200,
                    "{what}: {}",
                    &r.body[..r.body.len().min(300)]
                );
            }
        }
        for ((label, _), times) in modes.iter().zip(times) {
            let (p50, p99, max) = percentiles(times);
            println!("| {label}{what} | {p50:.1} ms | {p99:.1} ms | {max:.1} ms |");
        }
    }

    // Registrations through the form: a new child each time (the duplicate check runs and
    // finds nobody), then the record page the app redirects to.
    let mut times = vec![Vec::with_capacity(n); modes.len()];
    for i in 0..n * modes.len() {
        let m = i % modes.len();
        switch(modes[m].1);
        let form = request(&addr, "GET", "/register/birth", &cookie, None);
        let form_id = hidden(&form.body, "_form");
        // Names random enough that no earlier one is within the search's typo distance: the
        // duplicate check runs and finds nobody.
        let mut seed = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut word = |len: usize| {
            let mut w = String::new();
            for k in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let c = char::from(b'a' + (seed % 26) as u8);
                w.push(if k == 0 { c.to_ascii_uppercase() } else { c });
            }
            w
        };
        let name = word(8);
        let surname = word(9);
        let t = Instant::now();
        let r = request(
            &addr,
            "POST",
            "/register/birth",
            &cookie,
            Some(&[
                ("_csrf", &csrf),
                ("_form", &form_id),
                ("child.given_name", &name),
                ("child.surname", &surname),
                ("child.date_of_birth", "14.03.2026"),
                ("child.sex", "male"),
                ("place_of_birth", "Prishtinë"),
                ("mother.given_name", "Teuta"),
                ("mother.surname", "Zeqiri"),
            ]),
        );
        assert_eq!(
            r.status,
            303,
            "{}",
            &r.body[r.body.find("<main").unwrap_or(0)..][..r.body.len().min(800)]
        );
        let page = request(
            &addr,
            "GET",
            r.header("location").expect("location"),
            &cookie,
            None,
        );
        times[m].push(t.elapsed());
        assert_eq!(page.status, 200);
    }
    for ((label, _), times) in modes.iter().zip(times) {
        let (p50, p99, max) = percentiles(times);
        println!("| {label}registration: POST the form (duplicate check, save, flush) + GET the record page | {p50:.1} ms | {p99:.1} ms | {max:.1} ms |");
    }

    // The same child as a registered one (common names, a date in the data's years), posted
    // again: the duplicate check finds it and answers with the possible duplicates (409), so
    // this is the check's whole cost when there are namesakes to look at (searches, loading
    // and comparing the candidates, the page with them).
    switch(true);
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let k = (i * 7919 + 13) % records;
        let s = surnames[(k / given.len()) % surnames.len()];
        let form = request(&addr, "GET", "/register/birth", &cookie, None);
        let form_id = hidden(&form.body, "_form");
        let name = format!("{}{}", given[k % given.len()], letters(k));
        let born = format!(
            "{:02}.{:02}.{}",
            1 + (k % 28),
            1 + (k % 12),
            1950 + (k % 70)
        );
        let t = Instant::now();
        let r = request(
            &addr,
            "POST",
            "/register/birth",
            &cookie,
            Some(&[
                ("_csrf", &csrf),
                ("_form", &form_id),
                ("child.given_name", &name),
                ("child.surname", s),
                ("child.date_of_birth", &born),
                ("child.sex", if k % 2 == 0 { "male" } else { "female" }),
                ("place_of_birth", "Prishtinë"),
                ("mother.given_name", given[(k + 1) % given.len()]),
                ("mother.surname", s),
            ]),
        );
        times.push(t.elapsed());
        assert_eq!(
            r.status,
            409,
            "{}",
            &r.body[r.body.find("<main").unwrap_or(0)..][..r.body.len().min(800)]
        );
    }
    let (p50, p99, max) = percentiles(times);
    println!("| registration of a child registered already: POST answered with the possible duplicates (409) | {p50:.1} ms | {p99:.1} ms | {max:.1} ms |");

    if args.iter().any(|a| a == "--browser") {
        switch(true);
        let n_browser = args
            .iter()
            .position(|a| a == "--browser-requests")
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(100);
        rt.block_on(in_browser(&addr, &pages, records, n_browser));
    }
}

/// The navigation that brought the current page: start of navigation to the end of `load`.
async fn navigation_ms(c: &civreg_testkit::browser::fantoccini::Client) -> f64 {
    let script = "const e = performance.getEntriesByType('navigation')[0]; \
                  return e && e.loadEventEnd > 0 ? e.loadEventEnd - e.startTime : null;";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = c.execute(script, vec![]).await.expect("navigation timing");
        if let Some(ms) = v.as_f64() {
            return ms;
        }
        assert!(Instant::now() < deadline, "the page never finished loading");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The page's path, once the browser is on a page whose path starts with `prefix`.
async fn wait_for_path(c: &civreg_testkit::browser::fantoccini::Client, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(url) = c.current_url().await {
            if url.path().starts_with(prefix) {
                return url.path().to_string();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the browser never reached {prefix}: {:?}",
            c.source()
                .await
                .map(|s| s.chars().take(2000).collect::<String>())
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn in_browser(addr: &str, pages: &[(&str, String)], records: usize, n: usize) {
    use civreg_testkit::browser::{browser, start_chromedriver};
    let work = tempfile::tempdir().expect("tempdir");
    let (_driver, url) = start_chromedriver(&work.path().join("chromedriver.log")).await;
    let c = browser(&url, &work.path().join("profile")).await;
    let base = format!("http://{addr}");
    c.goto(&format!("{base}/login")).await.expect("login page");
    c.execute(
        "document.getElementById('name').value = arguments[0]; \
         document.getElementById('password').value = arguments[1]; \
         document.getElementById('signin').click();",
        vec![CLERK.into(), PASSWORD.into()],
    )
    .await
    .expect("sign in");
    // Signed in: the start page has the birth link.
    let deadline = Instant::now() + Duration::from_secs(30);
    while c
        .execute("return !!document.getElementById('nav-birth');", vec![])
        .await
        .ok()
        .and_then(|v| v.as_bool())
        != Some(true)
    {
        assert!(Instant::now() < deadline, "the browser did not sign in");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    println!();
    println!("| in Chromium ({records} records on the node, {n} navigations each): start of navigation to end of `load` | median | p99 | max |");
    println!("|---|---|---|---|");
    for (what, path) in pages.iter().filter(|(_, p)| !p.contains(".json")) {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            c.goto(&format!("{base}{path}")).await.expect("open page");
            times.push(Duration::from_secs_f64(navigation_ms(&c).await / 1000.0));
        }
        let (p50, p99, max) = percentiles(times);
        println!("| {what} | {p50:.1} ms | {p99:.1} ms | {max:.1} ms |");
    }
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        c.goto(&format!("{base}/register/birth"))
            .await
            .expect("birth form");
        let mut seed = (i as u64 + 7_777).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut word = |len: usize| {
            let mut w = String::new();
            for k in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let ch = char::from(b'a' + (seed % 26) as u8);
                w.push(if k == 0 { ch.to_ascii_uppercase() } else { ch });
            }
            w
        };
        let (name, surname) = (word(8), word(9));
        c.execute(
            "const set = (id, v) => { document.getElementById(id).value = v; }; \
             set('child-given_name', arguments[0]); set('child-surname', arguments[1]); \
             set('child-date_of_birth', '14.03.2026'); set('child-sex', 'male'); \
             set('place_of_birth', 'Prishtinë'); set('mother-given_name', 'Teuta'); \
             set('mother-surname', 'Zeqiri'); document.getElementById('save').click();",
            vec![name.into(), surname.into()],
        )
        .await
        .expect("fill and save the form");
        wait_for_path(&c, "/record/").await;
        times.push(Duration::from_secs_f64(navigation_ms(&c).await / 1000.0));
    }
    let (p50, p99, max) = percentiles(times);
    println!("| registration: the save clicked, to the record page loaded (duplicate check, save, flush, redirect, page) | {p50:.1} ms | {p99:.1} ms | {max:.1} ms |");
    let _ = c.close().await;
}
