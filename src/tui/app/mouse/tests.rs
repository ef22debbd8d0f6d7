//! The mouse against frames the real view drew: every click and notch lands on a cell found
//! in the rendered screen text, never on coordinates worked out here.

use crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::{HitMap, WHEEL_LINES};
use crate::tui::app::{App, CopyWhat, Focus, Overlay};
use crate::tui::fixtures::*;
use crate::tui::msg::{Effect, Msg};

fn mouse(kind: MouseEventKind, (column, row): (u16, u16)) -> Msg {
    Msg::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}
fn click(at: (u16, u16)) -> Msg {
    mouse(MouseEventKind::Down(MouseButton::Left), at)
}
fn wheel_down(at: (u16, u16)) -> Msg {
    mouse(MouseEventKind::ScrollDown, at)
}
fn wheel_up(at: (u16, u16)) -> Msg {
    mouse(MouseEventKind::ScrollUp, at)
}

/// Draw `app` at `w`×`h` (as the runtime does before input arrives) and return where
/// `needle` first appears on screen (its first character), `skip` occurrences on.
fn find_nth(app: &App, w: u16, h: u16, needle: &str, skip: usize) -> (u16, u16) {
    let screen = render(app, w, h);
    let mut seen = 0;
    for (y, line) in screen.lines().enumerate() {
        let mut from = 0;
        while let Some(i) = line[from..].find(needle) {
            let at = from + i;
            if seen == skip {
                let x = line[..at].chars().count();
                return (x as u16, y as u16);
            }
            seen += 1;
            from = at + needle.len();
        }
    }
    panic!("{needle:?} is not on the {w}×{h} screen:\n{screen}");
}
fn find(app: &App, w: u16, h: u16, needle: &str) -> (u16, u16) {
    find_nth(app, w, h, needle, 0)
}

/// A fresh token, its verification taken.
fn with_token() -> App {
    let mut app = app(false);
    step(&mut app, P0, fresh(&["Weather.Read"], 1));
    app.take_effects();
    app
}

#[test]
fn a_click_focuses_the_pane_under_it() {
    let mut app = app(false);
    for (title, pane) in [
        (" Config ", Focus::Config),
        (" Token ", Focus::Token),
        (" Weather ", Focus::Weather),
        (" Activity ", Focus::Activity),
        (" City ", Focus::City),
    ] {
        let (x, y) = find(&app, 120, 40, title);
        // Inside the pane, a line under its title.
        app.update(click((x + 2, y + 1)));
        assert_eq!(app.focus(), pane, "clicked in {title}");
        assert_eq!(app.overlay(), Overlay::None);
    }
    // The title bar and the footer are no pane: focus stays, nothing is redrawn.
    app.needs_redraw();
    let (x, y) = find(&app, 120, 40, "tokenscope");
    app.update(click((x, y)));
    assert_eq!(app.focus(), Focus::City);
    assert!(!app.needs_redraw());
    app.update(click((0, 39)));
    assert_eq!(app.focus(), Focus::City);
}

#[test]
fn at_80_columns_a_click_lands_on_the_pane_shown_in_the_top_row() {
    let mut app = app(false);
    // Token has the top row; Config is not drawn, so no click can focus it.
    let (x, y) = find(&app, 80, 24, " Token ");
    app.update(click((x, y + 2)));
    assert_eq!(app.focus(), Focus::Token);
    while app.focus() != Focus::Config {
        app.update(key(KeyCode::Tab));
    }
    // Now Config has the top row, drawn where Token was.
    let (cx, cy) = find(&app, 80, 24, " Config ");
    assert_eq!((cx, cy), (x, y));
    app.update(click((cx + 2, cy + 2)));
    assert_eq!(app.focus(), Focus::Config);
    let (x, y) = find(&app, 80, 24, " Weather ");
    app.update(click((x, y + 1)));
    assert_eq!(app.focus(), Focus::Weather);
}

#[test]
fn the_wheel_scrolls_the_pane_under_the_pointer_and_leaves_the_focus() {
    let mut app = with_token();
    for i in 0..40 {
        app.update(Msg::Warning(format!("warning number {i}")));
    }
    let (x, y) = find(&app, 80, 24, " Activity ");
    let over = (x + 2, y + 2);
    app.update(wheel_up(over));
    assert_eq!(
        app.scroll().activity,
        WHEEL_LINES as u16,
        "up goes back in time"
    );
    app.update(wheel_up(over));
    assert_eq!(app.scroll().activity, 2 * WHEEL_LINES as u16);
    app.update(wheel_down(over));
    assert_eq!(app.scroll().activity, WHEEL_LINES as u16);
    assert_eq!(
        app.focus(),
        Focus::City,
        "the wheel does not move the focus"
    );

    // Raw JSON in the Token pane, the focus back in the city box.
    app.update(key(KeyCode::Tab));
    app.update(ch('t'));
    let (x, y) = find(&app, 80, 24, " Token ");
    app.update(click((0, y + 14)));
    let (cx, cy) = find(&app, 80, 24, " City ");
    app.update(click((cx + 2, cy + 1)));
    assert_eq!(app.focus(), Focus::City);
    render(&app, 80, 24);
    let max = app.max_scroll.get().token;
    assert!(max > 2 * WHEEL_LINES as u16, "raw JSON overflows the pane");
    let over = (x + 2, y + 3);
    app.update(wheel_down(over));
    app.update(wheel_down(over));
    assert_eq!(app.scroll().token, 2 * WHEEL_LINES as u16);
    for _ in 0..100 {
        app.update(wheel_down(over));
    }
    assert_eq!(
        app.scroll().token,
        max,
        "clamped to what the frame could show"
    );
    app.update(wheel_up(over));
    assert_eq!(app.scroll().token, max - WHEEL_LINES as u16);
    assert_eq!(app.focus(), Focus::City);
    // Over the city box or the footer the wheel does nothing.
    app.needs_redraw();
    app.update(wheel_down((cx + 2, cy + 1)));
    app.update(wheel_down((0, 23)));
    assert!(!app.needs_redraw());
    assert_eq!(app.scroll().token, max - WHEEL_LINES as u16);
}

#[test]
fn over_the_claims_the_wheel_moves_the_selection_when_focused_and_scrolls_when_not() {
    let mut app = with_token();
    let (x, y) = find(&app, 80, 24, " Token ");
    let over = (x + 2, y + 3);
    // Unfocused: no selection shows, so the claims scroll by lines.
    app.update(wheel_down(over));
    assert_eq!(app.claims.offset.get(), WHEEL_LINES as u16);
    assert_eq!(app.claims.selected, 0);
    render(&app, 80, 24);
    assert_eq!(
        app.claims.offset.get(),
        WHEEL_LINES as u16,
        "the view keeps it"
    );
    app.update(wheel_up(over));
    app.update(wheel_up(over));
    assert_eq!(app.claims.offset.get(), 0);
    assert_eq!(app.focus(), Focus::City);
    // Focused: a claim a notch, as ↓ would.
    app.update(click(over));
    assert_eq!(app.focus(), Focus::Token);
    app.update(wheel_down(over));
    app.update(wheel_down(over));
    assert_eq!(app.claims.selected, 2);
    app.update(wheel_up(over));
    assert_eq!(app.claims.selected, 1);
}

#[test]
fn a_compare_row_is_selected_by_a_click_and_switched_to_by_a_second() {
    let mut app = profiles_app(true, 90);
    app.update(key(KeyCode::F(3)));
    app.take_effects();
    assert_eq!(app.compare_selected, 0);
    let row = find(&app, 120, 40, "mobile-ro");
    app.update(click(row));
    assert_eq!(app.compare_selected, 1);
    assert_eq!(app.overlay(), Overlay::Compare, "one click only selects");
    assert_eq!(app.active(), 0);
    // Anywhere along the row, not only on the name.
    app.update(click((row.0 + 40, row.1)));
    assert_eq!(
        app.active(),
        1,
        "a click on the selected row switches, as Enter"
    );
    assert_eq!(app.overlay(), Overlay::None);
    assert!(
        !app.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::CallApi { .. }))
    );
    // At 80×24 too; the header line is no row.
    app.update(key(KeyCode::F(3)));
    // (The title bar names the active profile first.)
    let (x, y) = find_nth(&app, 80, 24, "mobile-ro", 1);
    app.update(click((x, y - 2)));
    assert_eq!(app.compare_selected, 1);
    assert_eq!(app.overlay(), Overlay::Compare);
    let row = find(&app, 80, 24, "no-roles");
    app.update(click(row));
    assert_eq!(app.compare_selected, 2);
    // The wheel over the table moves the selection one row a notch, stopping at the ends.
    app.update(wheel_down(row));
    assert_eq!(app.compare_selected, 3);
    for _ in 0..10 {
        app.update(wheel_down(row));
    }
    assert_eq!(app.compare_selected, app.profiles.len() - 1);
    for _ in 0..10 {
        app.update(wheel_up(row));
    }
    assert_eq!(app.compare_selected, 0);
}

#[test]
fn picker_copy_and_admin_rows_answer_clicks() {
    let mut app = profiles_app(true, 90);
    app.update(key(KeyCode::F(2)));
    let row = find(&app, 120, 40, "no-roles");
    app.update(click(row));
    assert_eq!(app.overlay(), Overlay::Profiles { selected: 2 });
    app.update(click(row));
    assert_eq!(app.active(), 2);
    assert_eq!(app.overlay(), Overlay::None);

    // The copy popup's rows wrap at 80 columns: a click on a row's second line is that row.
    let mut app = with_token();
    app.update(key(KeyCode::Tab));
    app.update(ch('y'));
    assert_eq!(app.overlay(), Overlay::Copy { selected: 0 });
    let (x, y) = find(&app, 80, 24, "the access token itself");
    app.update(click((x, y)));
    assert_eq!(app.overlay(), Overlay::Copy { selected: 4 });
    app.update(click((x + 3, y)));
    assert_eq!(
        app.overlay(),
        Overlay::ConfirmCopy(CopyWhat::Token),
        "the token asks first, as with Enter"
    );
    assert!(app.take_effects().is_empty());
    // The prompt is answered by y or n only: a click anywhere leaves it open.
    app.update(click((0, 0)));
    app.update(click((x, y)));
    assert_eq!(app.overlay(), Overlay::ConfirmCopy(CopyWhat::Token));
    assert!(app.take_effects().is_empty());
    app.update(ch('n'));
    app.update(ch('y'));
    let (x, y) = find(&app, 80, 24, "decoded token");
    app.update(click((x, y)));
    app.update(click((x, y)));
    assert!(matches!(
        &app.take_effects()[..],
        [Effect::Copy {
            what: CopyWhat::Claims,
            ..
        }]
    ));

    let mut app = crate::tui::fixtures::app(true);
    app.update(key(KeyCode::Tab));
    app.update(ch('a'));
    assert_eq!(app.overlay(), Overlay::Admin { selected: 0 });
    let label = app.admin_ops()[1].label(&app.demo.as_ref().unwrap().client);
    let row = find(&app, 120, 40, &label);
    app.update(click(row));
    assert_eq!(app.overlay(), Overlay::Admin { selected: 1 });
    assert!(app.take_effects().is_empty(), "a first click only selects");
    app.update(click(row));
    assert_eq!(app.overlay(), Overlay::None);
    assert!(matches!(&app.take_effects()[..], [Effect::Admin { .. }]));
}

#[test]
fn a_click_outside_a_popup_closes_it_and_inside_keeps_it() {
    let mut app = profiles_app(true, 90);
    for (open, title) in [
        (KeyCode::F(1), " Keys "),
        (KeyCode::F(2), " Profiles "),
        (KeyCode::F(3), " Compare profiles "),
    ] {
        app.update(key(open));
        assert_ne!(app.overlay(), Overlay::None);
        // The popup's top-left corner is just left of its title.
        let (x, y) = find(&app, 120, 40, title);
        let (x, y) = (x - 1, y);
        let before = app.overlay();
        app.update(click((x, y)));
        assert_eq!(
            app.overlay(),
            before,
            "{open:?}: a click on the border keeps it"
        );
        app.update(click((0, 0)));
        assert_eq!(
            app.overlay(),
            Overlay::None,
            "{open:?}: closed from outside"
        );
        assert_eq!(app.focus(), Focus::City, "the click only closed it");
    }
    // The palette: a click selects, a second runs it.
    app.update(ctrl('p'));
    let row = find(&app, 120, 40, "compare the profiles");
    app.update(click(row));
    assert_eq!(app.overlay(), Overlay::Palette);
    app.update(click(row));
    assert_eq!(app.overlay(), Overlay::Compare);
}

#[test]
fn the_hit_map_keeps_only_what_was_drawn() {
    let mut hits = HitMap::default();
    hits.pane(Focus::Config, Rect::default());
    hits.pane(Focus::Token, Rect::new(0, 0, 10, 5));
    assert_eq!(hits.pane_at(Position::new(3, 3)), Some(Focus::Token));
    assert_eq!(hits.pane_at(Position::new(10, 3)), None, "right of it");
    let list = Rect::new(20, 10, 30, 4);
    hits.popup(Rect::new(19, 9, 32, 6));
    // Row 1 is two lines; row 3 would start below the list's last line; row 2 is cut.
    hits.rows(
        list,
        [
            (0, 0, 1),
            (1, 1, 2),
            (2, 3, 5),
            (3, 4, 1),
            (4, usize::MAX, 1),
        ],
    );
    assert_eq!(hits.row_at(Position::new(20, 10)), Some(0));
    assert_eq!(hits.row_at(Position::new(49, 11)), Some(1));
    assert_eq!(hits.row_at(Position::new(25, 12)), Some(1));
    assert_eq!(hits.row_at(Position::new(25, 13)), Some(2));
    assert_eq!(hits.row_at(Position::new(25, 14)), None, "below the list");
    assert_eq!(
        hits.row_at(Position::new(50, 10)),
        None,
        "right of the list"
    );
    assert!(hits.on_popup(Position::new(19, 9)));
    assert!(!hits.on_popup(Position::new(18, 9)));
    hits.clear();
    assert_eq!(hits, HitMap::default());
}

#[test]
fn a_too_small_terminal_has_nothing_to_click() {
    let mut app = app(false);
    render(&app, 120, 40);
    render(&app, 40, 10);
    app.update(key(KeyCode::Tab));
    app.update(click((2, 2)));
    assert_eq!(
        app.focus(),
        Focus::Token,
        "nothing is drawn where a pane was"
    );
}
