//! `orderdeck postmortem …` and the cockpit's `p`: where drafts are made,
//! opened, exported and published. The I/O edge of the postmortem module.

use super::export::{self, Format};
use super::model::Draft;
use super::store::{Drafts, StoreError};
use super::{prefill, publish, record, run};
use crate::config::Config;
use crate::runbook::Runbook;
use crate::state::State;
use chrono::Utc;
use crossterm::event::Event;
use futures::Stream;
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// A failed postmortem command: the message and the documented exit code.
#[derive(Debug)]
pub struct CommandError {
    pub code: u8,
    pub message: String,
}

impl CommandError {
    fn usage(m: impl Into<String>) -> Self {
        CommandError {
            code: 2,
            message: m.into(),
        }
    }
    fn failed(m: impl Into<String>) -> Self {
        CommandError {
            code: 1,
            message: m.into(),
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        let code = match e {
            StoreError::Io { .. }
            | StoreError::Locked { .. }
            | StoreError::WouldBeTooLarge { .. } => 1,
            _ => 2,
        };
        CommandError {
            code,
            message: e.to_string(),
        }
    }
}

impl From<publish::PublishError> for CommandError {
    fn from(e: publish::PublishError) -> Self {
        CommandError {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum PostmortemCommand {
    /// Start a draft pre-filled from the latest incident the cockpit recorded
    New {
        /// Pre-fill from this incident (`INC-…`, see the data dir's incidents/)
        #[arg(long, value_name = "ID")]
        incident: Option<String>,
        /// Only create the draft and print its id; do not open the editor
        #[arg(long)]
        no_edit: bool,
    },
    /// The drafts there are, newest first
    List,
    /// Open a draft in the guided editor
    Edit { id: String },
    /// Print a draft as Markdown or Confluence markup
    Export {
        id: String,
        #[arg(long, value_enum, default_value = "markdown")]
        format: Format,
        /// Write to this file instead of standard output
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Create or update the draft's Confluence page
    Publish {
        id: String,
        /// Space key (overrides [confluence] space)
        #[arg(long, value_name = "KEY")]
        space: Option<String>,
        /// Parent page id for a new page
        #[arg(long, value_name = "ID")]
        parent: Option<String>,
        /// Print the requests instead of sending them (the token is masked)
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs one `postmortem` subcommand. `config_path` is `--config` or the
/// default; a missing file is fine (environment variables may be enough).
pub async fn command(
    cmd: PostmortemCommand,
    config_path: Option<&Path>,
    theme: Option<&str>,
) -> Result<(), CommandError> {
    let drafts = Drafts::user()?;
    match cmd {
        PostmortemCommand::New { incident, no_edit } => {
            let incidents = crate::paths::incidents_dir();
            if let Some(id) = &incident {
                check_incident(incidents.as_deref(), id)?;
            }
            let incident =
                incident.or_else(|| incidents.as_deref().and_then(record::latest_incident));
            let draft = new_draft(
                &drafts,
                incidents.as_deref(),
                incident.as_deref(),
                &causes_by_family(&Runbook::builtin()),
            )?;
            crate::outln!("{}", draft.id);
            if no_edit || !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
                eprintln!("edit it with: orderdeck postmortem edit {}", draft.id);
                return Ok(());
            }
            let _lock = drafts.lock(&draft.id)?;
            // Read again under the lock: another editor may have saved it.
            let draft = drafts.load(&draft.id)?;
            edit_standalone(&drafts, draft, config_path, theme).await
        }
        PostmortemCommand::List => {
            let ids = drafts.list()?;
            if ids.is_empty() {
                crate::outln!(
                    "no drafts in {} (start one with: orderdeck postmortem new)",
                    drafts.dir.display()
                );
            }
            for id in ids {
                match drafts.load(&id) {
                    Ok(d) => crate::outln!(
                        "{id}\t{}\t{}\t{}",
                        d.severity,
                        d.status,
                        export::one_line(&crate::sanitize::sanitize(&d.title))
                    ),
                    Err(e) => crate::outln!("{id}\t(unreadable: {e})"),
                }
            }
            Ok(())
        }
        PostmortemCommand::Edit { id } => {
            // Before the terminal is taken, so the refusal is one line.
            let _lock = drafts.lock(&id)?;
            let draft = drafts.load(&id)?;
            edit_standalone(&drafts, draft, config_path, theme).await
        }
        PostmortemCommand::Export { id, format, output } => {
            let draft = drafts.load(&id)?;
            let mut text = export::render(&draft, format);
            if !text.ends_with('\n') {
                text.push('\n');
            }
            match output {
                Some(path) => std::fs::write(&path, text).map_err(|e| {
                    CommandError::failed(format!("cannot write {}: {e}", path.display()))
                }),
                None => {
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
                    Ok(())
                }
            }
        }
        PostmortemCommand::Publish {
            id,
            space,
            parent,
            dry_run,
        } => {
            let config = load_config(config_path)?;
            // Held until `published` is saved: an editor saving meanwhile
            // would drop it, and the next publish would create a new page.
            let _lock = if dry_run {
                None
            } else {
                Some(drafts.lock(&id)?)
            };
            let mut draft = drafts.load(&id)?;
            let target = publish::Target::resolve(
                &config.confluence,
                |k| std::env::var(k).ok(),
                space,
                parent,
            )?;
            if dry_run {
                print!("{}", publish::dry_run(&draft, &target)?);
                return Ok(());
            }
            let page = publish::publish(&draft, &target).await?;
            let verb = if draft.published.is_some() {
                "updated"
            } else {
                "created"
            };
            crate::outln!(
                "{verb} page {} (version {}) at {}",
                page.page_id,
                page.version,
                target.base
            );
            draft.published = Some(page);
            drafts.save(&draft)?;
            Ok(())
        }
    }
}

/// `--incident ID` names a file in the incidents directory: it must be an
/// id (nothing that could step out of the directory) and one on record; a
/// draft pre-filled from nothing would look like a quiet incident.
fn check_incident(dir: Option<&Path>, id: &str) -> Result<(), CommandError> {
    record::check_id(id).map_err(CommandError::usage)?;
    let Some(dir) = dir else {
        return Err(CommandError::usage(
            "no data directory to find incidents in (set HOME or XDG_DATA_HOME)",
        ));
    };
    if !record::incident_path(dir, id).is_file() {
        return Err(CommandError::usage(format!(
            "no incident {id} on record in {} (the cockpit names them INC-…; ls that directory, or leave out --incident for the latest)",
            crate::toml_errors::show_path(dir)
        )));
    }
    Ok(())
}

fn load_config(path: Option<&Path>) -> Result<Config, CommandError> {
    let path = path
        .map(Path::to_path_buf)
        .or_else(crate::paths::default_config_path);
    match path {
        Some(p) if p.exists() => {
            crate::config::load(&p).map_err(|e| CommandError::usage(e.to_string()))
        }
        _ => Ok(Config::default()),
    }
}

/// Usual causes per family from the runbook, as the draft's suggestions.
pub fn causes_by_family(runbook: &Runbook) -> Vec<(crate::model::Family, Vec<String>)> {
    crate::model::Family::ALL
        .iter()
        .map(|f| (*f, prefill::causes(runbook, &[*f])))
        .collect()
}

/// The incident's draft: the one in progress if there is one, else a new
/// one pre-filled from the incident record and the remediation audit.
pub fn new_draft(
    drafts: &Drafts,
    incidents: Option<&Path>,
    incident: Option<&str>,
    causes: &[(crate::model::Family, Vec<String>)],
) -> Result<Draft, CommandError> {
    let now = Utc::now();
    let id = prefill::draft_id(incident, now);
    if drafts.exists(&id) {
        return Ok(drafts.load(&id)?);
    }
    let observations = match (incidents, incident) {
        (Some(dir), Some(i)) => record::read_incident(dir, i),
        _ => Vec::new(),
    };
    let audit = crate::paths::audit_log_path()
        .map(|p| record::read_audit(&p))
        .unwrap_or_default();
    let facts = record::facts(&observations, &audit);
    let families = prefill::families(&facts);
    let mut suggestions = Vec::new();
    for (f, list) in causes {
        if families.contains(f) || families.is_empty() {
            for c in list {
                if !suggestions.contains(c) {
                    suggestions.push(c.clone());
                }
            }
        }
    }
    let draft = prefill::draft(id, incident, &facts, suggestions, now);
    drafts.save(&draft)?;
    Ok(draft)
}

async fn edit_standalone(
    drafts: &Drafts,
    draft: Draft,
    config_path: Option<&Path>,
    theme: Option<&str>,
) -> Result<(), CommandError> {
    let config = load_config(config_path)?;
    let look =
        crate::look::look(&config, theme).map_err(|e| CommandError::usage(format!("{e:#}")))?;
    let mut guard = crate::terminal::TerminalGuard::enter(crate::terminal::Options {
        mouse: false,
        depth: look.theming.depth,
    })
    .map_err(|e| {
        CommandError::failed(format!(
            "could not set up the terminal: {e} (is this a TTY?)"
        ))
    })?;
    let mut events = crossterm::event::EventStream::new();
    let result = run::run(
        &mut guard.terminal,
        &mut events,
        drafts,
        draft,
        &look.theming.palette,
    )
    .await;
    drop(guard);
    let draft = result.map_err(|e| CommandError::failed(format!("{e:#}")))?;
    eprintln!(
        "saved {} ({})",
        draft.id,
        drafts
            .path(&draft.id)
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    Ok(())
}

/// The cockpit's `p`: opens the incident's draft on the cockpit's terminal
/// and reports the outcome on the cockpit's message line.
pub async fn from_cockpit<B, E>(
    terminal: &mut Terminal<B>,
    events: &mut E,
    state: &mut State,
    incident: Option<&str>,
) where
    B: Backend,
    B::Error: Send + Sync + 'static,
    E: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let drafts = match Drafts::user() {
        Ok(d) => d,
        Err(e) => return state.error(e.to_string()),
    };
    let mut causes: Vec<(crate::model::Family, Vec<String>)> = Vec::new();
    for family in crate::model::Family::ALL {
        let mut list: Vec<String> = Vec::new();
        let mut rules: Vec<_> = state
            .rules
            .iter()
            .filter(|(_, r)| r.family == family)
            .collect();
        rules.sort_by(|a, b| a.0.cmp(b.0));
        for (_, r) in rules {
            for c in &r.causes {
                if !list.contains(c) {
                    list.push(c.clone());
                }
            }
        }
        causes.push((family, list));
    }
    let incidents = crate::paths::incidents_dir();
    // The environment's open incident, which may be one another process
    // opened (this cockpit's recorder then names one that was never
    // written).
    let shared = incidents.as_deref().and_then(|dir| {
        super::journal::Journal::new(dir, &state.env.name)
            .open_incident(state.now)
            .ok()
            .flatten()
            .map(|open| open.id)
    });
    let incident = shared.as_deref().or(incident);
    let draft = match new_draft(&drafts, incidents.as_deref(), incident, &causes) {
        Ok(d) => d,
        Err(e) => return state.error(e.message),
    };
    let (_lock, draft) = match drafts
        .lock(&draft.id)
        .and_then(|lock| Ok((lock, drafts.load(&draft.id)?)))
    {
        Ok(held) => held,
        Err(e) => return state.error(e.to_string()),
    };
    let palette = state.palette().clone();
    match run::run(terminal, events, &drafts, draft, &palette).await {
        Ok(d) => state.info(format!(
            "postmortem {} saved; export with: orderdeck postmortem export {}",
            d.id, d.id
        )),
        Err(e) => state.error(format!("postmortem editor: {e:#}")),
    }
    state.needs_redraw = true;
}
