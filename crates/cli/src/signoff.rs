//! `disposition`, `keys …` and `sign`: thin adapters over the service. Secrets (passphrases,
//! MFA codes) come from the terminal with echo off, or from a file or standard input; never
//! from argv.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::Path;

use countersign_core::display::Shown;
use countersign_service::{
    AwsSettings, DispositionRequest, EnrollRequest, ErrorCode, FetchSignoffRequest, MfaCode,
    PackageSignRequest, Passphrase, PublishRequest, ReopenRequest, Service, ServiceError,
    SignInMethod, SignInPrompt, SignRequest, SignSecrets, SignatureView, SigningSession,
    CERTIFICATION_STATEMENT,
};

use crate::args::{
    Cli, DispositionArgs, KeysCommand, PackageSignArgs, ReopenArgs, SignArgs, SignerArgs,
    SignoffCommand,
};
use crate::output::print_json;

/// The secrets of one signing. When the session needs opening (`needs_session`): with an IAM
/// Identity Center profile, a sign-in is started and its page and code are shown, to be
/// approved in the browser while the signing waits; otherwise the MFA code (`mfa_serial` names
/// the device in the prompt). Then the key passphrase. From the terminal or the files the
/// signer's flags name, never argv.
pub(crate) async fn signing_secrets(
    service: &Service,
    aws: &AwsSettings,
    session: &mut SigningSession,
    needs_session: bool,
    mfa_serial: &str,
    signer: &SignerArgs,
) -> Result<SignSecrets, ServiceError> {
    signer.check()?;
    let (code_file, passphrase_file) = (
        signer.mfa_code_file.as_deref(),
        signer.passphrase_file.as_deref(),
    );
    let mut mfa_code = None;
    if needs_session {
        match service.sign_in_method(aws).await? {
            SignInMethod::IdentityCenter { .. } => {
                refuse_code_file(code_file)?;
                let prompt = service.start_sign_in(aws, session).await?;
                show_sign_in(&prompt);
            }
            SignInMethod::MfaCode { .. } => {
                mfa_code = Some(read_mfa_code(
                    &format!("MFA code ({mfa_serial}): "),
                    code_file,
                )?);
            }
        }
    }
    let passphrase = read_secret("Key passphrase: ", passphrase_file)?;
    Ok(SignSecrets {
        passphrase,
        mfa_code,
    })
}

fn refuse_code_file(file: Option<&Path>) -> Result<(), ServiceError> {
    match file {
        Some(_) => Err(ServiceError::bad_input(
            "the AWS profile signs in with IAM Identity Center in the browser; it takes no MFA code (drop --mfa-code-file)",
        )),
        None => Ok(()),
    }
}

/// What the signer does for an IAM Identity Center sign-in (on standard error: standard output
/// stays the command's result).
fn show_sign_in(prompt: &SignInPrompt) {
    eprintln!(
        "Sign in with IAM Identity Center ({}) to open the signing session:",
        Shown(&prompt.start_url)
    );
    eprintln!("  1. open {}", Shown(&prompt.url));
    eprintln!(
        "  2. check that the page shows the code {}, sign in, and approve",
        Shown(&prompt.user_code)
    );
    eprintln!(
        "The code expires at {}. Countersign waits for the approval.",
        Shown(&prompt.expires_at)
    );
}

/// Longest secret read from a file or standard input. A passphrase or MFA code is a line; a
/// file much larger than that (`/dev/zero`, a log named by mistake) is refused, never read on.
pub(crate) const MAX_SECRET_BYTES: u64 = 4096;

/// Reads at most [`MAX_SECRET_BYTES`] from `reader`: the first line when `first_line`, else all
/// of it; more is refused, naming `what`.
fn read_capped(reader: impl Read, first_line: bool, what: &str) -> Result<String, ServiceError> {
    let mut bytes = Vec::new();
    let mut limited = std::io::BufReader::new(reader.take(MAX_SECRET_BYTES + 1));
    let read = if first_line {
        limited.read_until(b'\n', &mut bytes)
    } else {
        limited.read_to_end(&mut bytes)
    };
    read.map_err(|e| ServiceError::bad_input(format!("could not read {what}: {e}")))?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Err(ServiceError::bad_input(format!(
            "{what} holds more than {MAX_SECRET_BYTES} bytes; a passphrase or MFA code file holds \
             one line (nothing was read further)"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| ServiceError::bad_input(format!("{what} is not UTF-8 text")))
}

/// Reads one secret: from `file` (`-` = standard input, first line) or the terminal; at most
/// [`MAX_SECRET_BYTES`] from a file or standard input.
pub(crate) fn read_secret(prompt: &str, file: Option<&Path>) -> Result<Passphrase, ServiceError> {
    let text = match file {
        Some(p) if p == Path::new("-") => {
            read_capped(std::io::stdin().lock(), true, "standard input")?
        }
        Some(p) => {
            let shown = p.display().to_string();
            let f = std::fs::File::open(p)
                .map_err(|e| ServiceError::bad_input(format!("could not read {shown}: {e}")))?;
            read_capped(f, false, &shown)?
        }
        None => rpassword::prompt_password(prompt).map_err(|e| {
            ServiceError::bad_input(format!(
                "could not read from the terminal ({e}); use a --…-file option instead"
            ))
        })?,
    };
    let secret = Passphrase::new(text);
    let trimmed = secret.expose().trim_end_matches(['\r', '\n']);
    Ok(Passphrase::new(trimmed.to_owned()))
}

/// Reads an MFA one-time code as [`read_secret`] reads a passphrase.
pub(crate) fn read_mfa_code(prompt: &str, file: Option<&Path>) -> Result<MfaCode, ServiceError> {
    let text = read_secret(prompt, file)?;
    Ok(MfaCode::new(text.expose().trim().to_owned()))
}

pub(crate) fn both_stdin(a: Option<&Path>, b: Option<&Path>) -> bool {
    a == Some(Path::new("-")) && b == Some(Path::new("-"))
}

/// `countersign disposition`: checked first, then authenticated as the person (MFA session
/// and key passphrase, as at signing), then recorded.
pub async fn disposition(
    cli: &Cli,
    service: &Service,
    a: &DispositionArgs,
) -> Result<(), ServiceError> {
    let json = cli.global.json;
    a.signer.check()?;
    let req = DispositionRequest {
        run: a.run.clone(),
        case_id: a.case.clone(),
        kind: a.kind.parse()?,
        reference: a.reference.clone(),
        reason: a.reason.clone(),
    };
    let (key, mfa) = (a.signer.key.as_deref(), a.signer.mfa_serial.as_deref());
    let mut session = SigningSession::new();
    let plan = service.disposition_check(&session, &req, key, mfa)?;
    eprintln!(
        "Recording the disposition of case {} of run {} ({}) as {} ({}, key {})",
        Shown(&plan.case_id),
        Shown(&plan.run),
        plan.kind.as_str(),
        Shown(&plan.printed_name),
        Shown(&plan.iam_arn),
        plan.key_id
    );
    let aws = cli.global.aws();
    let secrets = signing_secrets(
        service,
        &aws,
        &mut session,
        plan.needs_mfa,
        &plan.mfa_serial,
        &a.signer,
    )
    .await?;
    let rec = service
        .disposition(&aws, &mut session, &req, key, mfa, secrets)
        .await?;
    if json {
        return print_json(&rec);
    }
    outln!(
        "Recorded: {} case {} {} ({}) by {} at {}",
        Shown(&rec.run_key),
        Shown(&rec.case_id),
        Shown(&rec.kind),
        Shown(&rec.reference),
        Shown(rec.by_name.as_deref().unwrap_or("unknown")),
        Shown(&rec.at)
    );
    Ok(())
}

/// `countersign keys …`.
pub async fn keys(cli: &Cli, service: &Service, cmd: &KeysCommand) -> Result<(), ServiceError> {
    let json = cli.global.json;
    match cmd {
        KeysCommand::Init(a) => {
            let p = a.passphrase_file.as_deref();
            let first = read_secret("New key passphrase (10+ characters): ", p)?;
            if p.is_none() {
                let second = read_secret("Repeat the passphrase: ", None)?;
                if first != second {
                    return Err(ServiceError::bad_input(
                        "the two passphrases differ; nothing was created",
                    ));
                }
            }
            let k = service.keys_init(&a.name, &first)?;
            if json {
                return print_json(&k);
            }
            outln!(
                "Created key {} for {} at {}",
                k.key_id,
                Shown(&k.printed_name),
                Shown(&k.path.display().to_string())
            );
            outln!("Next: countersign keys enroll --mfa-serial ARN");
            Ok(())
        }
        KeysCommand::Enroll(a) => {
            let accepted = a.accept_certification
                || {
                    eprintln!("{CERTIFICATION_STATEMENT}");
                    if !std::io::stdin().is_terminal() {
                        return Err(ServiceError::new(
                        ErrorCode::Refused,
                        "the certification must be accepted: type \"I accept\" at the prompt, or pass --accept-certification",
                    ));
                    }
                    eprint!("Type \"I accept\" to continue: ");
                    let _ = std::io::stderr().flush();
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                        ServiceError::bad_input(format!("could not read the answer: {e}"))
                    })?;
                    line.trim().eq_ignore_ascii_case("I accept")
                };
            let aws = cli.global.aws();
            let e = match service.sign_in_method(&aws).await? {
                SignInMethod::IdentityCenter { .. } => {
                    refuse_code_file(a.mfa_code_file.as_deref())?;
                    let mut session = SigningSession::new();
                    let prompt = service.start_sign_in(&aws, &mut session).await?;
                    show_sign_in(&prompt);
                    service
                        .keys_enroll_signed_in(&aws, a.key.as_deref(), accepted, &mut session)
                        .await?
                }
                SignInMethod::MfaCode { .. } => {
                    let code = read_mfa_code("MFA code: ", a.mfa_code_file.as_deref())?;
                    service
                        .keys_enroll(
                            &aws,
                            &EnrollRequest {
                                mfa_serial: a.mfa_serial.clone().unwrap_or_default(),
                                mfa_code: code,
                                key_id: a.key.clone(),
                                certification_accepted: accepted,
                            },
                        )
                        .await?
                }
            };
            if let Some(w) = &e.clock_warning {
                eprintln!("warning: {}", Shown(w));
            }
            if let Some(w) = &e.group_warning {
                eprintln!("warning: {}", Shown(w));
            }
            if json {
                return print_json(&e);
            }
            outln!(
                "Enrolled key {} for {} as {} (account {})",
                e.key.key_id,
                Shown(&e.key.printed_name),
                Shown(&e.key.iam_arn),
                Shown(&e.account)
            );
            if let Some(groups) = &e.groups {
                let list = if groups.is_empty() {
                    "none".to_owned()
                } else {
                    groups.join(", ")
                };
                outln!(
                    "IAM groups (for the policy's group grants): {}",
                    Shown(&list)
                );
            }
            Ok(())
        }
        KeysCommand::Revoke(a) if a.as_administrator => {
            revoke_as_administrator(cli, service, a).await
        }
        KeysCommand::Revoke(a) => {
            let passphrase = read_secret(
                "Passphrase of the key to revoke (its owner's): ",
                a.passphrase_file.as_deref(),
            )?;
            service.keys_revoke(&a.key, &a.reason, &passphrase)?;
            if json {
                return print_json(&serde_json::json!({"revoked": a.key}));
            }
            outln!("Revoked key {}", Shown(&a.key));
            Ok(())
        }
        KeysCommand::Export(a) => {
            let e = service.keys_export(a.key.as_deref())?;
            if json {
                return print_json(&e);
            }
            outln!("Key id:     {}", e.key_id);
            outln!("Name:       {}", Shown(&e.printed_name));
            if let Some(arn) = &e.iam_arn {
                outln!("Enrolled:   {}", Shown(arn));
            }
            outln!("Public key: {}", e.public_key_hex);
            print!("{}", e.pem);
            Ok(())
        }
        KeysCommand::List => {
            let keys = service.keys()?;
            if json {
                return print_json(&keys);
            }
            if keys.is_empty() {
                outln!("No keys. Create one with: countersign keys init --name \"Full Name\"");
            }
            for k in keys {
                let state = match &k.enrolled {
                    None => "not enrolled".to_owned(),
                    Some(e) if e.revoked.is_some() => format!("{} (revoked)", e.iam_arn),
                    Some(e) => e.iam_arn.clone(),
                };
                outln!(
                    "{}  {}  {}",
                    k.key_id,
                    Shown(&k.printed_name),
                    Shown(&state)
                );
            }
            Ok(())
        }
    }
}

/// What the record digest about to be signed covers, told before any secret is asked for.
fn print_covers(plan: &countersign_service::SignPlan) {
    eprintln!(
        "The signature covers record sha256:{}: {}",
        plan.record_sha256.to_hex(),
        Shown(&plan.covers)
    );
}

/// The plan's first line, before any secret: who signs what, with which key, under which policy.
fn announce(
    what: &str,
    printed_name: &str,
    iam_arn: &str,
    key_id: &countersign_core::signature::key_id::KeyId,
    policy_version: u32,
    policy_source: &str,
) {
    eprintln!(
        "Signing {} as {} ({}, key {key_id}) under policy v{policy_version} ({})",
        Shown(what),
        Shown(printed_name),
        Shown(iam_arn),
        Shown(policy_source)
    );
}

/// `countersign sign`: the policy is checked before any secret is asked for.
pub async fn sign(cli: &Cli, service: &Service, a: &SignArgs) -> Result<(), ServiceError> {
    a.signer.check()?;
    let req = SignRequest {
        run: a.run.clone(),
        meaning: a.meaning,
        reason: a.reason.clone(),
        key_id: a.signer.key.clone(),
        mfa_serial: a.signer.mfa_serial.clone(),
    };
    // One process per command: the session is new, so this is always a first signing.
    let mut session = SigningSession::new();
    let plan = service.sign_check(&session, &req)?;
    announce(
        &plan.run,
        &plan.printed_name,
        &plan.iam_arn,
        &plan.key_id,
        plan.policy_version,
        &plan.policy_source,
    );
    print_covers(&plan);
    let aws = cli.global.aws();
    let secrets = signing_secrets(
        service,
        &aws,
        &mut session,
        plan.needs_mfa,
        &plan.mfa_serial,
        &a.signer,
    )
    .await?;
    let info = service.sign(&aws, &mut session, &req, secrets).await?;
    if let Some(w) = &info.clock_warning {
        eprintln!("warning: {}", Shown(w));
    }
    if cli.global.json {
        return print_json(&info);
    }
    outln!(
        "Signed {} as {} by {} at {} (UTC{}); record sha256:{}",
        Shown(&info.run),
        Shown(&info.meaning.to_string()),
        Shown(&info.printed_name),
        Shown(&info.signed_at.to_string()),
        Shown(&info.utc_offset.to_string()),
        info.record_sha256.to_hex()
    );
    Ok(())
}

/// `countersign package sign`: the plan and what exactly is signed printed before any secret,
/// then the same ceremony as `sign`.
pub async fn package_sign(
    cli: &Cli,
    service: &Service,
    a: &PackageSignArgs,
) -> Result<(), ServiceError> {
    a.signer.check()?;
    let req = PackageSignRequest {
        pdf: a.pdf.clone(),
        out: a.out.clone(),
        meaning: a.meaning,
        reason: a.reason.clone(),
        key_id: a.signer.key.clone(),
        mfa_serial: a.signer.mfa_serial.clone(),
    };
    let mut session = SigningSession::new();
    let plan = service.package_sign_check(&session, &req)?;
    announce(
        &format!("package {}", plan.package_id),
        &plan.printed_name,
        &plan.iam_arn,
        &plan.key_id,
        plan.policy_version,
        &plan.policy_source,
    );
    eprintln!("The signature covers {}", Shown(&plan.covers));
    let aws = cli.global.aws();
    let secrets = signing_secrets(
        service,
        &aws,
        &mut session,
        plan.needs_mfa,
        &plan.mfa_serial,
        &a.signer,
    )
    .await?;
    let info = service
        .package_sign(&aws, &mut session, &req, secrets)
        .await?;
    if let Some(w) = &info.clock_warning {
        eprintln!("warning: {}", Shown(w));
    }
    if cli.global.json {
        return print_json(&info);
    }
    outln!(
        "Signed package {} as {} by {} at {} (UTC{}); wrote {} (sha256:{}); the package is now {}",
        Shown(&info.package_id),
        Shown(&info.meaning.to_string()),
        Shown(&info.printed_name),
        Shown(&info.signed_at.to_string()),
        Shown(&info.utc_offset.to_string()),
        Shown(&info.out.display().to_string()),
        info.sha256.to_hex(),
        info.state.as_str()
    );
    Ok(())
}

/// `countersign reopen`: the plan printed before any secret, then the same ceremony as `sign`.
pub async fn reopen(cli: &Cli, service: &Service, a: &ReopenArgs) -> Result<(), ServiceError> {
    a.signer.check()?;
    let req = ReopenRequest {
        run: a.run.clone(),
        reason: a.reason.clone(),
        key_id: a.signer.key.clone(),
        mfa_serial: a.signer.mfa_serial.clone(),
    };
    let mut session = SigningSession::new();
    let plan = service.reopen_check(&session, &req)?;
    eprintln!(
        "Re-opening {} as {} ({}, key {}) under policy v{} ({}): its signatures will be superseded and a new review will follow",
        Shown(&plan.run),
        Shown(&plan.printed_name),
        Shown(&plan.iam_arn),
        plan.key_id,
        Shown(&plan.policy_version.to_string()),
        Shown(&plan.policy_source.to_string())
    );
    print_covers(&plan);
    let aws = cli.global.aws();
    let secrets = signing_secrets(
        service,
        &aws,
        &mut session,
        plan.needs_mfa,
        &plan.mfa_serial,
        &a.signer,
    )
    .await?;
    let info = service.reopen(&aws, &mut session, &req, secrets).await?;
    if let Some(w) = &info.clock_warning {
        eprintln!("warning: {}", Shown(w));
    }
    if cli.global.json {
        return print_json(&info);
    }
    outln!(
        "Re-opened {} by {} at {} (UTC{}); record sha256:{}. Its earlier signatures are superseded; dispositions may be recorded again, then a new review and approval",
        Shown(&info.run),
        Shown(&info.printed_name),
        Shown(&info.signed_at.to_string()),
        Shown(&info.utc_offset.to_string()),
        info.record_sha256.to_hex()
    );
    Ok(())
}

/// `keys revoke --as-administrator`: the plan first, then the administrator's secrets.
async fn revoke_as_administrator(
    cli: &Cli,
    service: &Service,
    a: &crate::args::KeysRevokeArgs,
) -> Result<(), ServiceError> {
    let signer = SignerArgs {
        mfa_serial: a.mfa_serial.clone(),
        key: a.admin_key.clone(),
        passphrase_file: a.passphrase_file.clone(),
        mfa_code_file: a.mfa_code_file.clone(),
    };
    signer.check()?;
    let req = countersign_service::AdminRevokeRequest {
        key_id: a.key.clone(),
        reason: a.reason.clone(),
        admin_key_id: a.admin_key.clone(),
        mfa_serial: a.mfa_serial.clone(),
    };
    let mut session = SigningSession::new();
    let plan = service.keys_revoke_as_admin_check(&session, &req)?;
    eprintln!(
        "Revoking key {} of {} ({}) as administrator {} ({}, key {}) under policy v{}",
        plan.key_id,
        Shown(&plan.printed_name),
        Shown(&plan.iam_arn),
        Shown(&plan.admin_printed_name),
        Shown(&plan.admin_arn),
        plan.admin_key_id,
        plan.policy_version
    );
    let aws = cli.global.aws();
    let secrets = signing_secrets(
        service,
        &aws,
        &mut session,
        plan.needs_mfa,
        &plan.mfa_serial,
        &signer,
    )
    .await?;
    let done = service
        .keys_revoke_as_admin(&aws, &mut session, &req, secrets)
        .await?;
    if cli.global.json {
        return print_json(&done);
    }
    outln!(
        "Revoked key {} of {}, as administrator {}",
        done.key_id,
        Shown(&done.printed_name),
        Shown(&done.admin_printed_name)
    );
    Ok(())
}

/// The signatures section of `show` (text mode).
pub fn signatures(sigs: &[SignatureView]) {
    outln!();
    if sigs.is_empty() {
        outln!("Signatures: none");
        return;
    }
    outln!("Signatures:");
    for s in sigs {
        outln!(
            "  {:<9} {}  {} (UTC {}){}",
            s.meaning,
            Shown(&s.printed_name),
            Shown(s.local_time.as_deref().unwrap_or(&s.signed_at)),
            Shown(&s.signed_at),
            Shown(
                &s.iam_arn
                    .as_deref()
                    .map(|a| format!("  {a}"))
                    .unwrap_or_default()
            )
        );
        outln!(
            "            reason: {}  key {}",
            Shown(s.reason.as_deref().unwrap_or("?")),
            s.key_id
        );
        outln!("            verification: {}", Shown(&s.outcome_detail));
        if let Some(from) = &s.key_known_from {
            outln!(
                "            key known from hand-off {} (not enrolled on this desktop)",
                Shown(from)
            );
        }
    }
}

/// `countersign signoff publish|fetch`.
pub async fn handoff(
    cli: &Cli,
    service: &Service,
    cmd: &SignoffCommand,
) -> Result<(), ServiceError> {
    let json = cli.global.json;
    match cmd {
        SignoffCommand::Publish(a) => {
            let report = service
                .signoff_publish(
                    &cli.global.aws(),
                    &PublishRequest {
                        run: a.run.clone(),
                        to: a.to.clone(),
                        object_lock_days: a.object_lock_days,
                    },
                )
                .await?;
            if json {
                return print_json(&report);
            }
            outln!(
                "Published {} to {} (record sha256 {})",
                Shown(&report.run),
                Shown(&report.location.to_string()),
                report.record_sha256.to_hex()
            );
            for o in &report.objects {
                outln!("  {:<9} {}", o.status.as_str(), Shown(&o.uri));
            }
            for (sha, outcome) in &report.not_published {
                outln!(
                    "  not published: signature {} ({} for the current record)",
                    sha.to_hex(),
                    Shown(&outcome.to_string())
                );
            }
            if let Some(until) = &report.retain_until {
                outln!(
                    "Object Lock COMPLIANCE retention until {}",
                    Shown(&until.to_string())
                );
            }
            Ok(())
        }
        SignoffCommand::Fetch(a) => {
            let report = service
                .signoff_fetch(
                    &cli.global.aws(),
                    &FetchSignoffRequest {
                        run: a.run.clone(),
                        from: a.from.clone(),
                    },
                )
                .await?;
            let rejected = report.rejected().count();
            if json {
                print_json(&report)?;
            } else {
                outln!(
                    "Sign-off of {} from {}",
                    Shown(&report.run),
                    Shown(&report.location.to_string())
                );
                for i in &report.items {
                    outln!(
                        "  {:<16} {:<9} {}",
                        i.status.as_str(),
                        i.kind.as_str(),
                        Shown(i.uri.rsplit('/').next().unwrap_or(&i.uri))
                    );
                    outln!("{:>20}{}", "", Shown(&i.detail));
                }
                if report.same_record {
                    outln!(
                        "This desktop's record is the published one (sha256 {}): a signature now covers the same bytes.",
                        report.local_record_sha256.to_hex()
                    );
                } else {
                    outln!(
                        "This desktop's record (sha256 {}) differs from the published one; a signature here would not cover the same bytes.",
                        report.local_record_sha256.to_hex()
                    );
                }
            }
            if rejected > 0 {
                let first = report
                    .rejected()
                    .next()
                    .map(|i| i.detail.clone())
                    .unwrap_or_default();
                return Err(ServiceError::integrity(format!(
                    "{rejected} item(s) of the sign-off were refused (first: {first}); they are recorded in the ledger"
                )));
            }
            Ok(())
        }
    }
}
