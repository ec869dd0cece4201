//! Man pages. clap's definitions give each page its synopsis and every option, the action help
//! texts give supervisorctl's actions, and the prose is a Markdown subset (`docs/*.md`) turned
//! into roff here: a page can't miss an option or an action that the binary has.
//!
//! The subset: `## HEADING` (a section), `#### Heading` (a subsection), `### term` (a definition
//! item; the paragraphs after it, up to the next heading, are its body), paragraphs (lines
//! joined; a blank line ends one), `- ` bullets (continued by lines indented two spaces),
//! literal blocks indented four spaces, and inline `code` (bold) and *emphasis* (italic).
//! Anything else is text.

use clap::Command;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};

/// The prose of supervisorctl(1) after its options and actions.
const SUPERVISORCTL_MD: &str = include_str!("../../docs/supervisorctl.1.md");

/// The month of this version's release, the date every page shows (a test holds it to the
/// packages' changelog).
pub const RELEASED: &str = "December 2026";

const SOURCE: &str = concat!("supervisord-rs ", env!("CARGO_PKG_VERSION"));

/// What a page says of itself in its `.TH` line.
pub struct Title<'a> {
    pub name: &'a str,
    pub section: &'a str,
    pub manual: &'a str,
}

impl Title<'_> {
    fn render(&self, roff: &mut Roff) {
        let name = self.name.to_uppercase();
        let args = [name.as_str(), self.section, RELEASED, SOURCE, self.manual];
        roff.control("TH", args);
    }
}

/// A whole page for a command: NAME, SYNOPSIS, DESCRIPTION and OPTIONS from clap, then
/// `sections` (already roff), then the Markdown prose.
pub fn command_page(cmd: Command, title: &Title<'_>, sections: Roff, prose: &str) -> String {
    let mut cmd = cmd.after_help(None::<&str>).disable_help_subcommand(true);
    cmd.build();
    let man = clap_mangen::Man::new(cmd);
    let mut top = Roff::new();
    title.render(&mut top);
    let mut page = top.render().into_bytes();
    // Writing into a Vec can't fail; each part is rendered on its own so that clap's
    // subcommand, extra and version sections (pages of their own, in clap's view) are left out.
    let _ = man.render_name_section(&mut page);
    let _ = man.render_synopsis_section(&mut page);
    let _ = man.render_description_section(&mut page);
    let _ = man.render_options_section(&mut page);
    let mut tail = sections;
    tail.extend([markdown(prose)]);
    page.extend(tail.render().into_bytes());
    // Each part starts with roff's preamble (a string definition for apostrophes); the page
    // needs it once.
    let preamble = Roff::new().render();
    let body = String::from_utf8_lossy(&page).replace(&preamble, "");
    format!("{preamble}{body}")
}

/// A page with no command (a file format): the title, NAME, then the prose.
pub fn prose_page(title: &Title<'_>, summary: &str, prose: &str) -> String {
    let mut roff = Roff::new();
    title.render(&mut roff);
    roff.control("SH", ["NAME"]);
    roff.text([roman(format!("{} - {summary}", title.name))]);
    roff.extend([markdown(prose)]);
    roff.render()
}

/// A section listing `cmd`'s subcommands, nested ones by their whole path, each with its
/// arguments and help.
pub fn subcommands(mut cmd: Command, heading: &str) -> Roff {
    cmd.build();
    let mut roff = Roff::new();
    roff.control("SH", [heading]);
    let name = cmd
        .get_bin_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned();
    subcommand_items(&mut roff, &cmd, &name);
    roff
}

fn subcommand_items(roff: &mut Roff, cmd: &Command, path: &str) {
    // clap's own `help` subcommand is --help's business, not the page's.
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let path = format!("{path} {}", sub.get_name());
        if sub.has_subcommands() {
            subcommand_items(roff, sub, &path);
            continue;
        }
        let args: Vec<&clap::Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !matches!(a.get_action(), clap::ArgAction::Help))
            .collect();
        let mut term = vec![bold(path)];
        for a in &args {
            term.push(roman(" "));
            term.extend(arg_usage(a));
        }
        roff.control("TP", []);
        roff.text(term);
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            roff.text(inline(&about.to_string()));
        }
        let helped: Vec<_> = args.iter().filter(|a| a.get_help().is_some()).collect();
        if !helped.is_empty() {
            roff.control("RS", []);
            for a in helped {
                roff.control("TP", []);
                roff.text(arg_usage(a));
                roff.text(inline(
                    &a.get_help().map(ToString::to_string).unwrap_or_default(),
                ));
            }
            roff.control("RE", []);
        }
    }
}

/// `[-c FILE]`, `[--force]`, `[ARGS]...`, as a synopsis shows an argument.
fn arg_usage(a: &clap::Arg) -> Vec<Inline> {
    let value = a
        .get_value_names()
        .and_then(|v| v.first())
        .map_or_else(|| a.get_id().as_str().to_uppercase(), ToString::to_string);
    let many = a.get_num_args().is_some_and(|n| n.max_values() > 1)
        || matches!(a.get_action(), clap::ArgAction::Append);
    let mut parts = vec![roman("[")];
    if a.is_positional() {
        parts.push(italic(value));
    } else {
        let flag = match (a.get_short(), a.get_long()) {
            (Some(s), _) => format!("-{s}"),
            (None, Some(l)) => format!("--{l}"),
            (None, None) => String::new(),
        };
        parts.push(bold(flag));
        if a.get_num_args().is_some_and(|n| n.takes_values()) {
            parts.push(roman(" "));
            parts.push(italic(value));
        }
    }
    parts.push(roman(if many { "]..." } else { "]" }));
    parts
}

/// supervisorctl(1).
pub fn supervisorctl_page(prog: &str) -> String {
    use clap::CommandFactory;
    let cmd = crate::cli::Cli::command().bin_name(prog.to_owned());
    let title = Title {
        name: "supervisorctl",
        section: "1",
        manual: "User Commands",
    };
    command_page(cmd, &title, actions(), SUPERVISORCTL_MD)
}

/// ACTIONS: every action with the text `help <action>` prints, usage in bold.
fn actions() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["ACTIONS"]);
    roff.text([roman(
        "An action runs once and supervisorctl exits with its status; without one, the \
         interactive shell reads actions (with history and completion). In the shell and on the \
         command line alike:",
    )]);
    for (text_name, text) in crate::commands::help_texts() {
        let mut item: Option<(String, String)> = None;
        let flush = |roff: &mut Roff, item: &mut Option<(String, String)>| {
            if let Some((usage, what)) = item.take() {
                roff.control("TP", []);
                roff.text([bold(usage)]);
                if !what.is_empty() {
                    roff.text([roman(what)]);
                }
            }
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match line.split_once('\t') {
                // A continuation of the line before: "\t\tCtrl-C to exit".
                Some(("", more)) => {
                    if let Some((_, what)) = &mut item {
                        // A new sentence ("Ctrl-C to exit") or the rest of one.
                        if more.trim().starts_with(char::is_uppercase) && !what.ends_with('.') {
                            what.push(';');
                        }
                        what.push(' ');
                        what.push_str(more.trim());
                    }
                }
                Some((usage, what)) => {
                    flush(&mut roff, &mut item);
                    item = Some((usage.trim().to_owned(), what.trim().to_owned()));
                }
                // An example heading ("Ex:").
                None if line.trim_end().ends_with(':') => flush(&mut roff, &mut item),
                // A usage line with no description of its own ("tail [-f] <name> …").
                None if item.is_none() && line.starts_with(text_name) => {
                    item = Some((line.trim().to_owned(), String::new()));
                }
                // Prose ("Note: …").
                None => {
                    flush(&mut roff, &mut item);
                    roff.control("IP", []);
                    roff.text([roman(line.trim())]);
                }
            }
        }
        flush(&mut roff, &mut item);
    }
    roff
}

/// The Markdown subset (the module's doc) as roff.
pub fn markdown(md: &str) -> Roff {
    let mut out = Markdown::default();
    for line in md.lines() {
        out.line(line);
    }
    out.end_block();
    out.roff
}

#[derive(Default)]
struct Markdown {
    roff: Roff,
    /// The paragraph or bullet being gathered.
    text: String,
    bullet: bool,
    literal: Vec<String>,
    /// Inside a `###` item: paragraphs keep its indent.
    in_item: bool,
    /// The item's first paragraph follows its term directly.
    item_fresh: bool,
    /// A bullet list is open (inside an item, it is indented with `.RS`).
    in_list: bool,
}

impl Markdown {
    fn line(&mut self, line: &str) {
        if line.starts_with("<!--") {
            return;
        }
        // A blank line inside a literal block belongs to it (if the block goes on).
        if !self.literal.is_empty() && line.trim().is_empty() {
            self.literal.push(String::new());
            return;
        }
        if let Some(code) = line.strip_prefix("    ")
            && self.text.is_empty()
        {
            self.end_list();
            self.literal.push(code.to_owned());
            return;
        }
        if !self.literal.is_empty() {
            self.end_literal();
        }
        let heading = [("## ", "SH"), ("#### ", "SS")]
            .into_iter()
            .find_map(|(mark, macro_)| Some((line.strip_prefix(mark)?, macro_)));
        if let Some((h, macro_)) = heading {
            self.end_block();
            self.end_list();
            self.in_item = false;
            self.roff.control(macro_, [h.trim()]);
        } else if let Some(term) = line.strip_prefix("### ") {
            self.end_block();
            self.end_list();
            self.roff.control("TP", []);
            self.roff.text(inline(term.trim()));
            self.in_item = true;
            self.item_fresh = true;
        } else if let Some(item) = line.strip_prefix("- ") {
            self.end_block();
            self.bullet = true;
            self.text = item.trim().to_owned();
        } else if line.trim().is_empty() {
            self.end_block();
        } else {
            if !self.text.is_empty() {
                self.text.push(' ');
            } else if self.in_list && !line.starts_with("  ") {
                self.end_list();
            }
            self.text.push_str(line.trim());
        }
    }

    fn end_block(&mut self) {
        if !self.literal.is_empty() {
            self.end_literal();
        }
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        if self.bullet {
            if !self.in_list && self.in_item {
                self.roff.control("RS", []);
            }
            self.in_list = true;
            self.roff.control("IP", ["\\(bu", "2"]);
            self.bullet = false;
        } else {
            self.end_list();
            if self.in_item && self.item_fresh {
                // Straight after the term: the item's own first paragraph.
            } else if self.in_item {
                self.roff.control("IP", []);
            } else {
                self.roff.control("PP", []);
            }
        }
        self.item_fresh = false;
        self.roff.text(inline(&text));
    }

    fn end_list(&mut self) {
        if self.in_list {
            self.in_list = false;
            if self.in_item {
                self.roff.control("RE", []);
            } else {
                self.roff.control("PP", []);
            }
        }
    }

    fn end_literal(&mut self) {
        let mut lines = std::mem::take(&mut self.literal);
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        let fresh = self.in_item && self.item_fresh;
        if fresh {
            self.roff.control("IP", []);
        }
        self.item_fresh = false;
        let indent: &[&str] = if self.in_item { &[] } else { &["4"] };
        self.roff.control("RS", indent.iter().copied());
        if !fresh {
            self.roff.control("sp", []);
        }
        self.roff.control("nf", []);
        for l in &lines {
            self.roff.text([roman(l.as_str())]);
        }
        self.roff.control("fi", []);
        self.roff.control("RE", []);
    }
}

/// `code` in bold, *emphasis* in italic, the rest roman.
fn inline(text: &str) -> Vec<Inline> {
    let mut parts = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let closing = match c {
            '`' => rest[1..]
                .find('`')
                .map(|end| (bold(&rest[1..=end]), end + 2)),
            '*' => emphasis(rest).map(|end| (italic(&rest[1..end]), end + 1)),
            _ => None,
        };
        match closing {
            Some((styled, len)) => {
                if !plain.is_empty() {
                    parts.push(roman(std::mem::take(&mut plain)));
                }
                parts.push(styled);
                rest = &rest[len..];
            }
            None => {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !plain.is_empty() {
        parts.push(roman(plain));
    }
    parts
}

/// The index of the `*` closing an emphasis that opens at `s[0]`: a word follows the opening
/// one and precedes the closing one (so `*.conf` and `a * b` stay text).
fn emphasis(s: &str) -> Option<usize> {
    let body = &s[1..];
    if !body.starts_with(|c: char| c.is_alphanumeric()) {
        return None;
    }
    let end = body.find('*')?;
    let inner = &body[..end];
    (inner.ends_with(|c: char| c.is_alphanumeric() || c == ')' || c == '.') && !inner.contains('`'))
        .then_some(end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roff_of(md: &str) -> String {
        markdown(md).to_roff()
    }

    #[test]
    fn sections_items_paragraphs_lists_and_literals() {
        let md = "<!-- note -->\n## DESCRIPTION\nOne\nline.\n\nTwo.\n\n## [program:x]\n\
                  ### `command` = COMMAND\nDefault: none.\n\nMore *here*.\n\n- a\n- b\n  c\n\n\
                  After.\n\n    [program:x]\n    command=cat\n\n    [group:g]\n\n#### Sub\nOut.\n\n\
                  ## SEE ALSO\n`x`(8)\n";
        let cases = [
            ".SH DESCRIPTION\n.PP\nOne line.\n.PP\nTwo.\n",
            ".SH [program:x]\n.TP\n\\fBcommand\\fR = COMMAND\nDefault: none.\n.IP\nMore \\fIhere\\fR.\n",
            ".RS\n.IP \\(bu 2\na\n.IP \\(bu 2\nb c\n.RE\n.IP\nAfter.\n",
            ".RS\n.sp\n.nf\n[program:x]\ncommand=cat\n\n[group:g]\n.fi\n.RE\n.SS Sub\n.PP\nOut.\n",
            ".SH \"SEE ALSO\"\n.PP\n\\fBx\\fR(8)\n",
        ];
        let out = roff_of(md);
        for case in cases {
            assert!(out.contains(case), "{case:?} not in:\n{out}");
        }
        assert!(!out.contains("note"), "{out}");
    }

    #[test]
    fn inline_styles_leave_globs_and_products_alone() {
        let cases = [
            ("`a` b", vec![bold("a"), roman(" b")]),
            ("files = *.conf", vec![roman("files = *.conf")]),
            ("a * b * c", vec![roman("a * b * c")]),
            (
                "an *italic* word",
                vec![roman("an "), italic("italic"), roman(" word")],
            ),
            (
                "`grp:*` then *x*",
                vec![bold("grp:*"), roman(" then "), italic("x")],
            ),
            ("open `tick", vec![roman("open `tick")]),
        ];
        for (md, want) in cases {
            assert_eq!(inline(md), want, "{md}");
        }
    }

    #[test]
    fn text_that_looks_like_roff_is_escaped() {
        let out = roff_of(".so /etc/passwd\n\n'x\n\n    .literal\n");
        assert!(!out.lines().any(|l| l == ".so /etc/passwd"), "{out}");
        assert!(!out.lines().any(|l| l.starts_with("'x")), "{out}");
        assert!(!out.lines().any(|l| l == ".literal"), "{out}");
    }

    #[test]
    fn the_release_date_and_version_are_the_changelogs() {
        let changelog = include_str!("../../packaging/debian/changelog");
        let first = changelog.lines().next().unwrap_or_default();
        let version = concat!("(", env!("CARGO_PKG_VERSION"), "-1)");
        assert!(first.contains(version), "changelog's top entry is {first}");
        let signed = changelog
            .lines()
            .find(|l| l.starts_with(" -- "))
            .unwrap_or_default();
        // " -- Name <mail>  Wed, 02 Dec 2026 09:00:00 +0000"
        let (month, year) = RELEASED.split_once(' ').unwrap_or_default();
        let short = format!(" {} {year} ", &month[..3]);
        assert!(signed.contains(&short), "{signed} is not in {RELEASED}");
    }

    #[test]
    fn supervisorctl_page_lists_every_action_and_option() {
        let page = supervisorctl_page("supervisorctl");
        for (action, _) in crate::commands::help_texts() {
            let term = format!("\n.TP\n\\fB{action}");
            assert!(page.contains(&term), "action {action} missing");
        }
        for long in [
            "configuration",
            "serverurl",
            "username",
            "password",
            "interactive",
            "json",
        ] {
            assert!(page.contains(&format!("\\-\\-{long}")), "--{long} missing");
        }
        assert_eq!(
            page.matches(&Roff::new().render()).count(),
            1,
            "one preamble"
        );
        assert!(page.starts_with(&Roff::new().render()));
        let th = format!(".TH SUPERVISORCTL 1 \"{RELEASED}\" \"{SOURCE}\" \"User Commands\"");
        assert!(page.contains(&th), "{page}");
    }
}
