//! A drawn screen (a ratatui [`Buffer`]) as an SVG picture, cell by cell: monospace text
//! with each cell's foreground and background colour and bold, for README's screenshots.
//!
//! Pure: a buffer in, SVG text out. Every glyph is placed at its cell's column (an `x` per
//! character), so wide characters and the font's own advance never shift the columns.
//! Text is XML-escaped; control characters never reach a buffer (the views sanitise), and
//! any that did would be dropped here.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

/// Width and height of one cell, in SVG user units (pixels).
const CELL_W: u32 = 9;
const CELL_H: u32 = 18;
/// The baseline within a cell.
const BASELINE: u32 = 14;

/// The terminal's default colours (`Color::Reset`).
const DEFAULT_FG: &str = "#d4d4d4";
const DEFAULT_BG: &str = "#1e1e1e";

/// xterm's 16 colours, in ratatui's order (Black … White).
const ANSI: [&str; 16] = [
    "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
];

/// `color` as `#rrggbb`; `Reset` is the terminal's default for that side.
fn hex(color: Color, default: &'static str) -> String {
    let ansi = |i: usize| ANSI[i].to_string();
    match color {
        Color::Reset => default.to_string(),
        Color::Black => ansi(0),
        Color::Red => ansi(1),
        Color::Green => ansi(2),
        Color::Yellow => ansi(3),
        Color::Blue => ansi(4),
        Color::Magenta => ansi(5),
        Color::Cyan => ansi(6),
        Color::Gray => ansi(7),
        Color::DarkGray => ansi(8),
        Color::LightRed => ansi(9),
        Color::LightGreen => ansi(10),
        Color::LightYellow => ansi(11),
        Color::LightBlue => ansi(12),
        Color::LightMagenta => ansi(13),
        Color::LightCyan => ansi(14),
        Color::White => ansi(15),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => indexed(i),
    }
}

/// The xterm 256-colour palette.
fn indexed(i: u8) -> String {
    match i {
        0..=15 => ANSI[usize::from(i)].to_string(),
        16..=231 => {
            let n = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            format!(
                "#{:02x}{:02x}{:02x}",
                level(n / 36),
                level((n / 6) % 6),
                level(n % 6)
            )
        }
        232..=255 => {
            let v = 8 + (i - 232) * 10;
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    }
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// How one cell's text is drawn.
#[derive(Clone, PartialEq, Eq)]
struct Ink {
    fg: String,
    bold: bool,
}

/// The picture of `buf`.
pub fn buffer_svg(buf: &Buffer) -> String {
    let area = buf.area;
    let (w, h) = (
        u32::from(area.width) * CELL_W,
        u32::from(area.height) * CELL_H,
    );
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"'DejaVu Sans Mono', Menlo, Consolas, monospace\" font-size=\"15\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{DEFAULT_BG}\"/>\n"
    );
    for y in area.top()..area.bottom() {
        let top = u32::from(y - area.top()) * CELL_H;
        // Backgrounds: one rectangle per run of the same colour that is not the default.
        let mut x = area.left();
        while x < area.right() {
            let bg = cell_bg(buf, x, y);
            let start = x;
            while x < area.right() && cell_bg(buf, x, y) == bg {
                x += 1;
            }
            if bg != DEFAULT_BG {
                out.push_str(&format!(
                    "<rect x=\"{}\" y=\"{top}\" width=\"{}\" height=\"{CELL_H}\" fill=\"{bg}\"/>\n",
                    u32::from(start - area.left()) * CELL_W,
                    u32::from(x - start) * CELL_W
                ));
            }
        }
        // Text: one element per run of the same ink, each glyph at its own column.
        let mut run: Option<(Ink, Vec<u32>, String)> = None;
        for x in area.left()..area.right() {
            let cell = &buf[(x, y)];
            let symbol = cell.symbol();
            if symbol.trim().is_empty() {
                flush(&mut out, &mut run, top);
                continue;
            }
            let ink = Ink {
                fg: cell_fg(cell),
                bold: cell.modifier.contains(Modifier::BOLD),
            };
            if run.as_ref().is_some_and(|(i, _, _)| *i != ink) {
                flush(&mut out, &mut run, top);
            }
            let (_, xs, text) = run.get_or_insert_with(|| (ink, Vec::new(), String::new()));
            let col = u32::from(x - area.left()) * CELL_W;
            for c in symbol.chars().filter(|c| !c.is_control()) {
                xs.push(col);
                text.push(c);
            }
        }
        flush(&mut out, &mut run, top);
    }
    out.push_str("</svg>\n");
    out
}

/// The text colour; reversed video swaps it with the background.
fn cell_fg(cell: &ratatui::buffer::Cell) -> String {
    if cell.modifier.contains(Modifier::REVERSED) {
        hex(cell.bg, DEFAULT_BG)
    } else {
        hex(cell.fg, DEFAULT_FG)
    }
}

fn cell_bg(buf: &Buffer, x: u16, y: u16) -> String {
    let cell = &buf[(x, y)];
    if cell.modifier.contains(Modifier::REVERSED) {
        hex(cell.fg, DEFAULT_FG)
    } else {
        hex(cell.bg, DEFAULT_BG)
    }
}

fn flush(out: &mut String, run: &mut Option<(Ink, Vec<u32>, String)>, top: u32) {
    let Some((ink, xs, text)) = run.take() else {
        return;
    };
    let xs: Vec<String> = xs.iter().map(u32::to_string).collect();
    out.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" fill=\"{}\"{} xml:space=\"preserve\">",
        xs.join(" "),
        top + BASELINE,
        ink.fg,
        if ink.bold {
            " font-weight=\"bold\""
        } else {
            ""
        }
    ));
    escape(&text, out);
    out.push_str("</text>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn cells_become_placed_coloured_escaped_text() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 2));
        buf.set_string(0, 0, "a<b", Style::default().fg(Color::Red));
        buf.set_string(4, 0, "&", Style::default().add_modifier(Modifier::BOLD));
        buf.set_string(
            0,
            1,
            "ok",
            Style::default()
                .fg(Color::Rgb(1, 2, 3))
                .bg(Color::Indexed(22)),
        );
        let svg = buffer_svg(&buf);
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"54\" height=\"36\""),
            "{svg}"
        );
        assert!(
            svg.contains(
                "<text x=\"0 9 18\" y=\"14\" fill=\"#cd3131\" xml:space=\"preserve\">a&lt;b</text>"
            ),
            "{svg}"
        );
        assert!(
            svg.contains("<text x=\"36\" y=\"14\" fill=\"#d4d4d4\" font-weight=\"bold\" xml:space=\"preserve\">&amp;</text>"),
            "{svg}"
        );
        // xterm 22 = #005f00, behind two cells of the second row.
        assert!(
            svg.contains("<rect x=\"0\" y=\"18\" width=\"18\" height=\"18\" fill=\"#005f00\"/>"),
            "{svg}"
        );
        assert!(
            svg.contains(">ok</text>") && svg.contains("fill=\"#010203\""),
            "{svg}"
        );
        // Reversed video: light cell, dark text.
        let mut buf = Buffer::empty(Rect::new(0, 0, 1, 1));
        buf.set_string(0, 0, "x", Style::default().add_modifier(Modifier::REVERSED));
        let svg = buffer_svg(&buf);
        assert!(svg.contains(&format!("fill=\"{DEFAULT_FG}\"/>")), "{svg}");
        assert!(
            svg.contains(&format!("fill=\"{DEFAULT_BG}\" xml:space")),
            "{svg}"
        );
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn palettes() {
        assert_eq!(indexed(16), "#000000");
        assert_eq!(indexed(231), "#ffffff");
        assert_eq!(indexed(232), "#080808");
        assert_eq!(indexed(255), "#eeeeee");
        assert_eq!(hex(Color::Reset, DEFAULT_BG), DEFAULT_BG);
    }
}
