//! `pa billing …`: a tenant's usage and invoices from the command line.

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::remote::ServerArgs;

#[derive(Args)]
pub struct BillingArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(subcommand)]
    command: BillingCommand,
}

#[derive(Subcommand)]
enum BillingCommand {
    /// Usage per plugin and quotas of a month.
    Usage {
        /// The month, `YYYY-MM` (this month by default).
        #[arg(long)]
        period: Option<String>,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// The invoice of a month.
    Invoice {
        /// The month, `YYYY-MM`.
        #[arg(long)]
        period: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(args: BillingArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let (body, json) = match args.command {
        BillingCommand::Usage { period, json } => {
            let mut request = client.get(args.server.tenant_url("/usage"));
            if let Some(period) = period {
                request = request.query(&[("period", period)]);
            }
            (args.server.send(request).await?, json)
        }
        BillingCommand::Invoice { period, json } => {
            let request = client.get(args.server.tenant_url(&format!("/invoices/{period}")));
            (args.server.send(request).await?, json)
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else if body.get("lines").is_some() {
        print!("{}", invoice_text(&body));
    } else {
        print!("{}", usage_text(&body));
    }
    Ok(())
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "unlimited".into(),
        other => other.to_string(),
    }
}

fn cents(amount: i64, currency: &str) -> String {
    format!(
        "{}{}.{:02} {currency}",
        if amount < 0 { "-" } else { "" },
        amount.abs() / 100,
        amount.abs() % 100
    )
}

fn usage_text(body: &Value) -> String {
    let mut out = format!(
        "tenant {}  period {}  plan {}\n\n{:<24} {:>12} {:>14} {:>16} {:>14} {:>14}\n",
        text(&body["tenant"]),
        text(&body["period"]),
        text(&body["plan"]),
        "plugin",
        "invocations",
        "wall ms",
        "fuel",
        "egress bytes",
        "storage bytes"
    );
    let rows = body["plugins"].as_array().cloned().unwrap_or_default();
    for row in rows.iter().chain(std::iter::once(&body["totals"])) {
        let name = row.get("plugin").map(text).unwrap_or_else(|| "total".into());
        out.push_str(&format!(
            "{:<24} {:>12} {:>14} {:>16} {:>14} {:>14}\n",
            name,
            text(&row["invocations"]),
            row["wall_micros"].as_i64().unwrap_or(0) / 1000,
            text(&row["fuel"]),
            text(&row["egress_bytes"]),
            text(&row["storage_bytes"]),
        ));
    }
    for (name, quota) in body["quotas"].as_object().into_iter().flatten() {
        out.push_str(&format!(
            "\nquota {name}: {} used of {}",
            text(&quota["used"]),
            text(&quota["limit"])
        ));
    }
    out.push('\n');
    out
}

fn invoice_text(body: &Value) -> String {
    let currency = text(&body["currency"]);
    let mut out = format!(
        "Invoice  tenant {}  period {} ({})  plan {}\n\n",
        text(&body["tenant"]),
        text(&body["period"]),
        text(&body["status"]),
        text(&body["plan"])
    );
    for line in body["lines"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{:<28} {:>16} {:<12} {:>16}\n",
            text(&line["description"]),
            text(&line["quantity"]),
            text(&line["unit"]),
            cents(line["amount_cents"].as_i64().unwrap_or(0), &currency)
        ));
    }
    out.push_str(&format!(
        "{:<28} {:>16} {:<12} {:>16}\n",
        "Total",
        "",
        "",
        cents(body["total_cents"].as_i64().unwrap_or(0), &currency)
    ));
    out
}
