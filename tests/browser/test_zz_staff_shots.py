from tests.browser.conftest import login_as
from tests.web.staff_helpers import deposit_demo_dossiers, instruct_to_avise


def test_shots(page, browser, live_server, db_engine):
    ids = deposit_demo_dossiers(db_engine, 3)
    instruct_to_avise(db_engine, ids[1:])
    login_as(page, "instructeur@demo.aap.test")
    page.goto("/instruction/comite")
    print(page.evaluate("""() => { const w = document.documentElement.clientWidth; return [document.documentElement.scrollWidth,
      ...[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 8)
      .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))]; }"""))
    page.context.clear_cookies()
    login_as(page, "admin@demo.aap.test")
    page.screenshot(path="/tmp/st_dashboard.png", full_page=True)
    for p in ("admin", "admin/utilisateurs", "admin/territoire"):
        page.goto("/" + p)
        page.screenshot(path=f"/tmp/st_{p.replace('/', '_')}.png", full_page=True)
    ctx = browser.new_context(base_url=live_server, viewport={"width": 375, "height": 800})
    m = ctx.new_page()
    login_as(m, "admin@demo.aap.test")
    m.screenshot(path="/tmp/st_m_dashboard.png", full_page=True)
    m.goto(f"/instruction/dossiers/{ids[1]}")
    m.screenshot(path="/tmp/st_m_dossier.png", full_page=True)
    ctx.close()
