//! One incident, whoever watches it: two cockpits on one environment and a
//! restart write one record, and `postmortem new` (the real binary) is
//! pre-filled from all of it. Also the draft lock and `--incident` checks.

use assert_cmd::Command;
use chrono::{DateTime, TimeZone, Utc};
use orderdeck::alerts::{Alert, AlertBoard, AlertLevel, Firing};
use orderdeck::model::Family;
use orderdeck::postmortem::journal::Journal;
use orderdeck::postmortem::model::Draft;
use orderdeck::postmortem::store::Drafts;
use orderdeck::state::incident::{IncidentRecorder, Seen};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

fn t(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 6, min, 0)
        .single()
        .unwrap_or_default()
}

/// The real binary with its data under `home`.
fn orderdeck(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("orderdeck").expect("binary");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

fn data(home: &Path) -> PathBuf {
    home.join("data/orderdeck")
}

fn alert(id: &str, message: &str, since: DateTime<Utc>) -> Alert {
    Alert {
        id: id.into(),
        level: AlertLevel::Critical,
        message: message.into(),
        since,
    }
}

fn seen(alerts: &[Alert], split: u64) -> Seen<'_> {
    Seen {
        alerts,
        families: [
            (Family::Ghost, 0),
            (Family::Split, split),
            (Family::Zombie, 0),
        ],
        amount_cents: split as i64 * 10_000,
        queues: vec![("logistics.updates", 0)],
    }
}

/// One process's poll: its own recorder, the shared journal.
fn poll(journal: &Journal, r: &mut IncidentRecorder, at: DateTime<Utc>, s: Seen<'_>) {
    if let Some((id, obs)) = r.observe(at, s) {
        journal.append(&id, obs).expect("append");
    }
}

#[test]
fn two_cockpits_and_a_restart_record_one_incident_and_the_prefill_covers_it() {
    let home = tempfile::tempdir().expect("home");
    let incidents = data(home.path()).join("incidents");
    // Two cockpits on prod start polling at the same moment, each with a
    // recorder of its own: the cockpit sees the logistics outage, the
    // wallboard in the other pane the split orders a minute later.
    let barrier = Arc::new(Barrier::new(2));
    let writers: Vec<_> = [(0, "logistics consumer down", 5u64), (1, "", 9)]
        .into_iter()
        .map(|(min, message, split)| {
            let barrier = barrier.clone();
            let journal = Journal::new(&incidents, "prod");
            std::thread::spawn(move || {
                let mut r = IncidentRecorder::default();
                let alerts: Vec<Alert> = if message.is_empty() {
                    Vec::new()
                } else {
                    vec![alert("queue.consumers/logistics.updates", message, t(min))]
                };
                barrier.wait();
                poll(&journal, &mut r, t(min), seen(&alerts, split));
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    // An SSH drop: the cockpit restarts and carries the incident on.
    let journal = Journal::new(&incidents, "prod");
    let open = journal
        .open_incident(t(15))
        .expect("journal")
        .expect("the incident is still open");
    let mut r = open.recorder();
    let still = [alert(
        "queue.consumers/logistics.updates",
        "logistics consumer down",
        t(15),
    )];
    poll(&journal, &mut r, t(15), seen(&still, 12));
    poll(&journal, &mut r, t(40), seen(&[], 0));
    // The remediation run in between, from the shared audit.
    std::fs::write(
        data(home.path()).join("audit.jsonl"),
        r#"{"occurred_at":"2026-11-26T06:20:00Z","os_user":"ops","host":"b1","environment":"prod","action":"requeue","target":"queue logistics.updates.dlq","affected":40,"outcome":"ok"}
"#,
    )
    .expect("audit");

    let files: Vec<String> = std::fs::read_dir(&incidents)
        .expect("incidents dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    assert_eq!(files.len(), 1, "one incident on record: {files:?}");

    let out = orderdeck(home.path())
        .args(["postmortem", "new", "--no-edit"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let text = std::fs::read_to_string(data(home.path()).join(format!("postmortems/{id}.json")))
        .expect("draft written");
    let d: Draft = serde_json::from_str(&text).expect("draft json");
    assert_eq!(d.started_at, Some(t(0)), "from the first cockpit");
    assert_eq!(d.detected_at, Some(t(0)));
    assert_eq!(d.mitigated_at, Some(t(20)), "the remediation");
    assert_eq!(d.resolved_at, Some(t(40)), "after the restart");
    assert_eq!(d.impact.split_orders, 12, "the peak after the restart");
    // Which of the two cockpits wrote first is up to the scheduler; what
    // the record holds is not.
    let mut whats: Vec<&str> = d.timeline.iter().map(|r| r.what.as_str()).collect();
    whats.sort_unstable();
    assert_eq!(
        whats,
        [
            "all anomalies cleared",
            "cleared: logistics consumer down",
            "critical: logistics consumer down",
            "first anomaly seen",
            "peak: 12 split orders stuck",
            "requeue queue logistics.updates.dlq: ok, 40 affected by ops@b1",
        ],
        "each alert once, though two cockpits and a restart saw it"
    );
}

#[test]
fn a_restarted_cockpit_keeps_the_alert_start_and_rings_no_bell() {
    let dir = tempfile::tempdir().expect("dir");
    let journal = Journal::new(dir.path(), "prod");
    let a = [alert("queue.ready/settlement", "settlement backlog", t(1))];
    poll(
        &journal,
        &mut IncidentRecorder::default(),
        t(1),
        seen(&a, 0),
    );
    let open = journal.open_incident(t(30)).expect("read").expect("open");
    let mut board = AlertBoard::default();
    for (id, level, since) in open.open_alerts() {
        board.resume(id, level, since, t(30));
    }
    let change = board.reconcile(
        t(30),
        vec![Firing {
            id: "queue.ready/settlement".into(),
            level: AlertLevel::Critical,
            message: "settlement backlog".into(),
        }],
    );
    assert_eq!(change.fired, Vec::<String>::new(), "not new: no bell");
    assert_eq!(
        board.active()[0].since,
        t(1),
        "firing since before the restart"
    );
}

#[test]
fn postmortem_new_refuses_a_bad_or_unknown_incident_id() {
    let home = tempfile::tempdir().expect("home");
    let incidents = data(home.path()).join("incidents");
    std::fs::create_dir_all(&incidents).expect("dir");
    // A file a relative path could reach from the incidents directory.
    std::fs::write(
        home.path().join("data/evil.jsonl"),
        "{\"kind\":\"opened\",\"at\":\"2026-11-26T06:00:00Z\"}\n",
    )
    .expect("evil");
    for (id, says) in [
        ("../evil", "is not an incident id"),
        ("../../../evil", "is not an incident id"),
        (
            "INC-19990101-000000",
            "no incident INC-19990101-000000 on record in ",
        ),
    ] {
        let out = orderdeck(home.path())
            .args(["postmortem", "new", "--no-edit", "--incident", id])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{id}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{id}: one line: {stderr}");
        assert!(stderr.contains(says), "{id}: {stderr}");
        assert!(out.stdout.is_empty(), "{id}: no draft id printed");
    }
    let drafts = data(home.path()).join("postmortems");
    assert!(
        std::fs::read_dir(&drafts).map_or(true, |mut d| d.next().is_none()),
        "no draft was created"
    );
}

#[test]
fn a_draft_open_in_one_editor_is_refused_to_another_and_to_publish() {
    let home = tempfile::tempdir().expect("home");
    let drafts = Drafts::new(data(home.path()).join("postmortems"));
    let d = Draft::new("PM-1".into(), t(0));
    drafts.save(&d).expect("save");
    let before = std::fs::read(drafts.path("PM-1").expect("path")).expect("read");
    let held = drafts.lock("PM-1").expect("this test is the first editor");
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        "[confluence]\nurl = 'http://127.0.0.1:1'\ntoken = 'x'\nspace = 'OPS'\n",
    )
    .expect("config");
    // Owner-only, as a config with a token should be (else every command
    // adds a warning line).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let pid = std::process::id();
    for args in [
        vec!["postmortem", "edit", "PM-1"],
        vec!["--config", "CONFIG", "postmortem", "publish", "PM-1"],
    ] {
        let args: Vec<&str> = args
            .into_iter()
            .map(|a| {
                if a == "CONFIG" {
                    config.to_str().unwrap_or_default()
                } else {
                    a
                }
            })
            .collect();
        let out = orderdeck(home.path()).args(&args).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("draft PM-1 is open in another editor (")
                && stderr.contains(&format!(", pid {pid}, since ")),
            "{args:?}: says who holds it: {stderr}"
        );
    }
    assert_eq!(
        std::fs::read(drafts.path("PM-1").expect("path")).expect("read"),
        before,
        "the draft was not touched"
    );
    drop(held);
}

/// Inserts long-stuck `pending_review` orders (ghosts) by plain SQL, as an
/// outside tool would.
fn insert_ghosts(db: &Path, order_nos: &[&str]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open the database");
        for no in order_nos {
            sqlx::query(
                "INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
                    status, payment_status, created_at, status_changed_at)
                 VALUES (?, 1, 2, 'SKU-1', 1, 990, 'pending_review', 'unpaid',
                         '2020-01-01 00:00:00', '2020-01-01 00:00:00')",
            )
            .bind(no)
            .execute(&pool)
            .await
            .expect("insert");
        }
        // The first one holds stock, for `release_lock` to give back.
        for sql in [
            "INSERT INTO inventory (sku, on_hand, reserved) VALUES ('SKU-1', 10, 1)",
            "INSERT INTO inventory_locks (order_id, sku, quantity, is_locked, locked_at, expires_at)
             VALUES (1, 'SKU-1', 1, 1, '2020-01-01 00:00:00', '2999-01-01 00:00:00')",
        ] {
            sqlx::query(sql).execute(&pool).await.expect("lock");
        }
        pool.close().await;
    });
}

fn incident_files(incidents: &Path) -> Vec<String> {
    std::fs::read_dir(incidents)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.ends_with(".jsonl"))
                .collect()
        })
        .unwrap_or_default()
}

/// No cockpit running: `snapshot` from a shell sees stuck orders and opens
/// the environment's incident, `remediate` runs while it is open, and the
/// postmortem pre-fill has both. A clean snapshot opens nothing.
#[test]
fn headless_snapshot_and_remediate_make_one_incident_for_the_postmortem() {
    let home = tempfile::tempdir().expect("home");
    let db = home.path().join("shop.db");
    let url = format!("sqlite://{}", db.display());
    let incidents = data(home.path()).join("incidents");
    let run = |args: &[&str]| {
        let out = orderdeck(home.path())
            .env("ORDERDECK_DATABASE_URL", &url)
            .args(args)
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        (out.status.code(), text, stdout)
    };
    let (code, text, _) = run(&["db", "migrate", "--database-url", &url]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text, _) = run(&["snapshot"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        incident_files(&incidents),
        Vec::<String>::new(),
        "a clean snapshot opens no incident"
    );

    insert_ghosts(&db, &["GHOST-1", "GHOST-2"]);
    let (code, text, _) = run(&["snapshot"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        incident_files(&incidents).len(),
        1,
        "opened by the snapshot"
    );
    let (code, text, _) = run(&["remediate", "release_lock", "GHOST-1", "--yes"]);
    assert_eq!(code, Some(0), "{text}");
    // A second snapshot joins the same incident rather than opening another.
    let (code, text, _) = run(&["snapshot"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(incident_files(&incidents).len(), 1, "still one incident");

    let (code, text, id) = run(&["postmortem", "new", "--no-edit"]);
    assert_eq!(code, Some(0), "{text}");
    let text =
        std::fs::read_to_string(data(home.path()).join(format!("postmortems/{}.json", id.trim())))
            .expect("draft written");
    let d: Draft = serde_json::from_str(&text).expect("draft json");
    assert_eq!(d.impact.ghost_orders, 2, "the peak the snapshot saw");
    assert_eq!(d.impact.amount_stuck_cents, 1980, "both listed: 2 x 9.90");
    assert!(d.incident.is_some(), "pre-filled from an incident");
    assert!(
        d.started_at.is_some() && d.mitigated_at > d.started_at,
        "opened by the snapshot, mitigated by the remediation: {:?} {:?}",
        d.started_at,
        d.mitigated_at
    );
    assert_eq!(d.resolved_at, None, "one poll never declares an all-clear");
    let whats: Vec<&str> = d.timeline.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(whats.len(), 3, "{whats:?}");
    assert_eq!(
        whats[..2],
        ["first anomaly seen", "peak: 2 ghost orders stuck"]
    );
    // Then who ran it, which depends on the machine.
    assert!(
        whats[2].starts_with("release_lock order GHOST-1: ok, 1 affected"),
        "{whats:?}"
    );
}
