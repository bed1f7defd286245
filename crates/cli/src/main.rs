//! `countersign`: the command line face of the service layer. Every subcommand is a thin adapter:
//! parse arguments, call the service, print human text or one JSON document.
#![forbid(unsafe_code)]

/// `println!` that treats a closed pipe (`countersign runs | head`) as the reader being done,
/// and any other stdout failure as environment trouble, instead of panicking.
macro_rules! outln {
    () => {
        $crate::write_stdout_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout_line(format_args!($($arg)*))
    };
}

mod args;
mod ledger;
mod output;
mod package_out;
mod review_out;
mod signoff;
mod state_out;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use countersign_core::display::{escape_lines, is_unsafe, Shown};
use countersign_service::{
    CancelToken, Env, FetchProgress, FetchRequest, ImportRequest, Service, ServiceError, StateList,
};

use crate::args::{
    Cli, Command, DemoCommand, PackageArgs, PackageCommand, ShowArgs, StateArgs, StateCommand,
    StateListArg,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", Shown(&e.message));
            ExitCode::from(u8::try_from(e.code.exit_code()).unwrap_or(3))
        }
    }
}

async fn run(cli: &Cli) -> Result<(), ServiceError> {
    let json = cli.global.json;
    match &cli.command {
        Command::Demo {
            command: DemoCommand::Seed(a),
        } => {
            let report =
                Service::demo_seed(&Env::system(), &cli.global.aws(), &a.bucket, &a.prefix).await?;
            output::seed(&report, json)
        }
        Command::Fetch(a) => {
            let service = open(cli)?;
            let req = FetchRequest {
                aws: cli.global.aws(),
                bucket: a.bucket.clone(),
                prefix: a.prefix.clone(),
                concurrency: a.concurrency,
                stack: a.stack.clone(),
            };
            let tty = std::io::stderr().is_terminal() && !json;
            let started = Instant::now();
            let progress = move |p: &FetchProgress| {
                if tty {
                    output::progress_line(p, started.elapsed());
                }
            };
            let cancel = CancelToken::new();
            let ctrl_c = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    ctrl_c.cancel();
                }
            });
            let report = service.fetch(&req, &progress, &cancel).await?;
            if tty {
                eprintln!();
            }
            output::fetch(&report, started.elapsed(), json)?;
            if !report.failed.is_empty() || report.cancelled {
                return Err(ServiceError::new(
                    countersign_service::ErrorCode::Aws,
                    format!(
                        "{} object(s) could not be downloaded{}; run the same fetch again to resume (verified objects are kept)",
                        report.failed.len(),
                        if report.cancelled { " (cancelled)" } else { "" }
                    ),
                ));
            }
            Ok(())
        }
        Command::Import(a) => {
            let service = open(cli)?;
            let req = ImportRequest::new(a.path.clone());
            output::import(&service.import(&req, &|_| {}, &CancelToken::new())?, json)
        }
        Command::Runs => {
            let service = open_for_reading(cli)?;
            output::runs(&service.runs()?, json)
        }
        Command::Show(ShowArgs {
            run,
            file: Some(path),
        }) => output::file(&open_for_reading(cli)?.open_file(run, path)?, json),
        Command::Show(a) => {
            let service = open_for_reading(cli)?;
            let view = service.show(&a.run)?;
            let sigs = service.signatures(&a.run);
            if json {
                return output::show_with_signatures(&view, &sigs);
            }
            output::show(&view, json)?;
            match sigs {
                Ok(sigs) => signoff::signatures(&sigs),
                Err(e) => eprintln!("signatures not verified: {}", Shown(&e.message)),
            }
            Ok(())
        }
        Command::Disposition(a) => signoff::disposition(cli, &open(cli)?, a).await,
        Command::Keys { command } => signoff::keys(cli, &open(cli)?, command).await,
        Command::Sign(a) => signoff::sign(cli, &open(cli)?, a).await,
        Command::Reopen(a) => signoff::reopen(cli, &open(cli)?, a).await,
        Command::Todo(a) => output::todo(&open(cli)?.todo(a.key.as_deref())?, json),
        Command::Package(PackageArgs {
            command: Some(PackageCommand::Publish(a)),
            ..
        }) => package_out::publish(cli, &open(cli)?, a).await,
        Command::Package(PackageArgs {
            command: Some(PackageCommand::Sign(a)),
            ..
        }) => signoff::package_sign(cli, &open(cli)?, a).await,
        Command::Package(PackageArgs {
            command: Some(PackageCommand::List),
            ..
        }) => package_out::list(&open(cli)?, json),
        Command::Package(a) => package_out::package(&open(cli)?, a, json),
        Command::Verify(a) => package_out::verify(cli, a, json).await,
        Command::Signoff { command } => signoff::handoff(cli, &open(cli)?, command).await,
        Command::State(StateArgs {
            command: Some(StateCommand::Review(a)),
            ..
        }) => review_out::review(cli, &open(cli)?, a).await,
        Command::State(StateArgs {
            command: Some(StateCommand::Report(a)),
            ..
        }) => review_out::report(&open(cli)?, a, json),
        Command::State(StateArgs {
            system,
            public_key,
            csv: Some(list),
            out: Some(out),
            ..
        }) => {
            let key = read_public_key(public_key.as_deref())?;
            let key = key.as_ref().map(|(n, b)| (n.as_str(), b.as_slice()));
            let list = match list {
                StateListArg::Changes => StateList::Changes,
                StateListArg::Events => StateList::Events,
            };
            state_out::exported(
                &open_for_reading(cli)?.state_export(system.as_deref(), key, list, out)?,
                json,
            )
        }
        Command::State(a) => {
            let key = read_public_key(a.public_key.as_deref())?;
            let key = key.as_ref().map(|(n, b)| (n.as_str(), b.as_slice()));
            state_out::state(
                &open_for_reading(cli)?.state(a.system.as_deref(), key)?,
                json,
            )
        }
        Command::Assess(a) => state_out::assess(cli, &open(cli)?, a).await,
        Command::AuditEvidence(a) => {
            let service = open_for_reading(cli)?;
            let key = read_public_key(a.public_key.as_deref())?;
            let key = key.as_ref().map(|(n, b)| (n.as_str(), b.as_slice()));
            let report = service.audit_evidence(key, a.stack.as_deref())?;
            output::audit_evidence(&report, json)?;
            if !report.valid {
                return Err(ServiceError::integrity(output::audit_evidence_verdict(
                    &report,
                )));
            }
            Ok(())
        }
        Command::Ledger { command } => ledger::run(cli, command).await,
    }
}

/// Writes one line of human output. Every untrusted string in it was escaped by its printer
/// (`Shown`); should one have been missed, a control character that reaches this point is
/// escaped here, so nothing but text and line breaks ever reaches the terminal.
fn write_stdout_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let line = args.to_string();
    let line = if line.chars().any(|c| c != '\n' && is_unsafe(c)) {
        escape_lines(&line).into_owned()
    } else {
        line
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out
        .write_all(line.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: could not write to standard output: {e}");
        std::process::exit(3);
    }
}

/// The CloudTrail public key file named on the command line: its name and bytes.
pub(crate) fn read_public_key(
    path: Option<&std::path::Path>,
) -> Result<Option<(String, Vec<u8>)>, ServiceError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let bytes = std::fs::read(path).map_err(|e| {
        ServiceError::bad_input(format!(
            "could not read the public key file {}: {e}",
            path.display()
        ))
    })?;
    Ok(Some((path.display().to_string(), bytes)))
}

pub(crate) fn open(cli: &Cli) -> Result<Service, ServiceError> {
    Service::open(&cli.global.home_dir()?, Env::system())
}

/// For commands that only read: an auditor's read-only copy of a home works too.
pub(crate) fn open_for_reading(cli: &Cli) -> Result<Service, ServiceError> {
    Service::open_for_reading(&cli.global.home_dir()?, Env::system())
}
