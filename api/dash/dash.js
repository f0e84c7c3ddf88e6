/*
 * dash.js - the estuaryfs dashboard (api/dash/index.html): reads the
 * daemon's REST routes (docs/api.md) and draws the overview, commits,
 * deals, miners, a bandwidth chart and retrievals, every REFRESH_MS.
 *
 * Design notes:
 * - Public routes (/public/..., /dealer, /metrics, and
 *   /dashboard/api/deals: every deal, api_dash.c) are read without a
 *   key; READ routes (/content/..., /deals/status/..., /auth) need one.
 *   The key is asked for once, kept in sessionStorage (gone with the
 *   tab) and sent as "Authorization: Bearer"; a key in the address's
 *   fragment (#key=...) is taken the same way and removed from the
 *   address bar.  Without a key the READ sections say so.  The fragment
 *   may also name a deal and an SP to open (#deal=101&miner=f01000).
 * - Every string from the API reaches the page as a text node or an
 *   attribute value (el() below): never innerHTML, so a file name or an
 *   SP's garbage answer cannot become markup.  The page's CSP
 *   (script-src 'self') forbids inline scripts anyway.
 * - One refresh at a time: the next starts REFRESH_MS after the last
 *   one ended, so a slow daemon is never asked twice at once.
 */
'use strict';

(function () {
	const REFRESH_MS = 5000;
	const KEY_NAME = 'estuaryfs.apikey';
	const DEAL_STATES = ['proposing', 'accepted', 'transferring',
		'publishing', 'published', 'active', 'rejected', 'failed',
		'slashed', 'expired'];
	const SVG_NS = 'http://www.w3.org/2000/svg';

	let key = '';
	let keyScope = null;        /* the key's scope per /auth, or null */
	let selDeal = null;         /* the deal whose receipt is open */
	let selMiner = null;        /* the SP whose log is open */
	let pieceCommits = new Map(); /* piece ID -> [commit IDs] */

	/* ---- DOM helpers: text only, never markup ---- */

	function el(tag, attrs, ...kids) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k === 'onclick')
				e.addEventListener('click', v);
			else
				e.setAttribute(k, v === true ? '' : String(v));
		}
		append(e, kids);
		return e;
	}

	function append(e, kids) {
		for (const k of kids.flat(Infinity)) {
			if (k === null || k === undefined || k === false)
				continue;
			e.appendChild(k instanceof Node ? k
				: document.createTextNode(String(k)));
		}
		return e;
	}

	function svg(tag, attrs, ...kids) {
		const e = document.createElementNS(SVG_NS, tag);
		for (const [k, v] of Object.entries(attrs || {}))
			e.setAttribute(k, String(v));
		for (const k of kids)
			e.appendChild(k instanceof Node ? k
				: document.createTextNode(String(k)));
		return e;
	}

	function fill(id, ...kids) {
		const e = document.getElementById(id);
		e.replaceChildren();
		append(e, kids);
		return e;
	}

	/* ---- formatting ---- */

	function num(n) {
		return n === null || n === undefined ? '–'
			: Number(n).toLocaleString('en-US');
	}

	function bytes(n) {
		const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
		let i = 0;
		n = Number(n) || 0;
		while (n >= 1024 && i < u.length - 1) {
			n /= 1024;
			i++;
		}
		return (i ? n.toFixed(n < 10 ? 2 : 1) : String(n)) + ' ' + u[i];
	}

	function when(iso) {
		if (!iso)
			return '–';
		const d = new Date(iso);
		return isNaN(d) ? String(iso)
			: d.toISOString().replace('T', ' ').slice(0, 19);
	}

	function secs(s) {
		s = Number(s) || 0;
		if (s < 120)
			return s.toFixed(s < 10 ? 1 : 0) + ' s';
		if (s < 7200)
			return (s / 60).toFixed(0) + ' min';
		return (s / 3600).toFixed(1) + ' h';
	}

	function badge(state) {
		const cls = String(state).split(/[ :]/)[0];
		return el('span', { class: 'badge ' + cls }, state);
	}

	function cid(c) {
		return c ? el('span', { class: 'cid', title: c }, c) : '–';
	}

	function needKey(what) {
		return el('p', { class: 'need-key' }, what +
			' needs an API key with the read scope (' +
			(key ? 'this key was refused' : 'enter one above') +
			'; see estuaryfs key create).');
	}

	function table(heads, rows) {
		return el('table', null,
			el('thead', null, el('tr', null, heads.map(h =>
				el('th', { class: h.startsWith('#') ? 'num' : null },
					h.replace(/^#/, ''))))),
			el('tbody', null, rows));
	}

	function td(v, cls) {
		return el('td', { class: cls || null }, v);
	}

	/* A progress bar: active of want. */
	function progress(active, want) {
		const pct = want > 0 ? Math.min(100, 100 * active / want) : 0;
		const bar = el('span', { class: 'fill' });
		bar.style.width = pct + '%';
		return el('div', {
			class: 'progress' + (active >= want ? ''
				: active > 0 ? ' short' : ' none'),
			title: active + ' of ' + want + ' active deals',
		}, bar, el('span', { class: 'txt' }, active + '/' + want));
	}

	/* ---- the API ---- */

	async function get(path) {
		const headers = {};
		if (key)
			headers.Authorization = 'Bearer ' + key;
		try {
			const r = await fetch(path, { headers, cache: 'no-store' });
			const ct = r.headers.get('Content-Type') || '';
			const body = ct.startsWith('application/json')
				? await r.json() : await r.text();
			return { status: r.status, ok: r.ok, body };
		} catch (e) {
			return { status: 0, ok: false, body: null, error: String(e) };
		}
	}

	function why(r) {
		if (r.status === 0)
			return 'the daemon does not answer (' + r.error + ')';
		const e = r.body && r.body.error;
		return r.status + (e ? ' ' + e.reason + ': ' + e.details : '');
	}

	/* ---- the key ---- */

	/*
	 * The address's fragment: #key=KEY (taken into sessionStorage and
	 * removed from the address bar), #deal=ID and #miner=ADDR (open
	 * that receipt or log), joined with '&'.
	 */
	function fragmentTake() {
		const args = new URLSearchParams(location.hash.slice(1));
		if (args.has('key')) {
			sessionStorage.setItem(KEY_NAME, args.get('key'));
			args.delete('key');
			const rest = args.toString();
			history.replaceState(null, '', location.pathname +
				location.search + (rest ? '#' + rest : ''));
		}
		key = sessionStorage.getItem(KEY_NAME) || '';
		selDeal = args.get('deal') || null;
		selMiner = args.get('miner') || null;
	}

	async function keyCheck() {
		keyScope = null;
		if (key) {
			const r = await get('/auth');
			keyScope = r.ok && r.body ? r.body.scope || 'read' : null;
		}
		const st = document.getElementById('key-state');
		st.textContent = !key ? 'no API key: public data only'
			: keyScope ? 'API key: ' + keyScope + ' scope'
			: 'API key refused: public data only';
		document.getElementById('key-forget').hidden = !key;
		document.getElementById('key-input').hidden = !!keyScope;
		document.getElementById('key-use').hidden = !!keyScope;
	}

	function keySetup() {
		document.getElementById('key-form').addEventListener('submit',
			async ev => {
				ev.preventDefault();
				const inp = document.getElementById('key-input');
				key = inp.value.trim();
				inp.value = '';
				if (key)
					sessionStorage.setItem(KEY_NAME, key);
				await keyCheck();
				refreshNow();
			});
		document.getElementById('key-forget').addEventListener('click',
			async () => {
				key = '';
				sessionStorage.removeItem(KEY_NAME);
				await keyCheck();
				refreshNow();
			});
	}

	/* ---- overview ---- */

	function card(label, value, sub) {
		return el('div', { class: 'card' },
			el('div', { class: 'label' }, label),
			el('div', { class: 'value' }, value),
			sub ? el('div', { class: 'sub' }, sub) : null);
	}

	function drawStats(r) {
		if (!r.ok) {
			fill('cards', el('p', { class: 'blocked' },
				'stats: ' + why(r)));
			fill('deal-states');
			return;
		}
		const s = r.body;
		const ds = s.deals_by_state || {};
		const stored = (s.local_bytes || 0) + (s.evicted_bytes || 0);
		fill('cards',
			card('Stored', bytes(stored), num(s.totalObjectsRef) +
				' blocks'),
			card('Local', bytes(s.local_bytes), num(s.local_blocks) +
				' blocks in the cache'),
			card('Evicted', bytes(s.evicted_bytes),
				num(s.evicted_blocks) + ' blocks held by SPs'),
			card('Commits', num(s.commits), bytes(s.totalBytesUploaded) +
				' of files'),
			card('Deals on chain', num(s.dealsOnChain),
				num(ds.active) + ' active'),
			card('SPs holding data', num(s.totalStorageMiner),
				bytes(s.active_padded_bytes) + ' padded, active'));
		const max = Math.max(1, ...DEAL_STATES.map(k => ds[k] || 0));
		fill('deal-states', el('div', { class: 'states' },
			DEAL_STATES.map(k => {
				const bar = el('span', { class: 'bar' });
				bar.style.width = Math.round(140 * (ds[k] || 0) / max) +
					'px';
				return el('div', { class: 'st', 'data-state': k },
					el('span', { class: 'name' }, badge(k)), bar,
					el('span', { class: 'n' }, num(ds[k] || 0)));
			})));
	}

	function drawHealth(list) {
		if (!list.ok) {
			fill('health', list.status === 401 || list.status === 403
				? needKey('Replication health') : why(list));
			return;
		}
		const cs = list.body;
		const at = cs.filter(c => c.active >= c.want).length;
		const evicted = cs.filter(c => !c.local).length;
		const short = cs.filter(c => c.active < c.want);
		fill('health',
			el('div', { class: 'cards' },
				card('At target', at + ' / ' + cs.length,
					'commits with every deal active'),
				card('Short', String(short.length),
					'commits below their replication')),
			el('p', null, evicted + ' commit(s) partly evicted (held ' +
				'by SPs, fetched back on read).'));
	}

	function drawDealer(r) {
		if (!r.ok) {
			fill('dealer', el('p', { class: 'muted' },
				r.status === 503 ? 'The dealer is not running ' +
				'(disabled, or no network).' : why(r)));
			return;
		}
		const d = r.body || {};
		const rows = [];
		const f = d.funds || {};
		if (d.network)
			rows.push(['network', typeof d.network === 'object'
				? d.network.name || JSON.stringify(d.network)
				: d.network]);
		if (d.head)
			rows.push(['chain head', num(d.head.height)]);
		if (d.funds)
			rows.push(['wallet', f.balance + ' · escrow ' + f.escrow +
				' · DataCap ' + f.datacap]);
		if (d.cycle)
			rows.push(['last cycle', d.cycle.duration_ms + ' ms, ' +
				num(d.cycle.checked) + ' deals checked, ' +
				num(d.cycle.proposed) + ' proposed']);
		const blocked = Object.entries(d.blocked || {})
			.filter(([, v]) => v);
		fill('dealer',
			blocked.map(([k, v]) => el('p', { class: 'blocked' },
				'BLOCKED (' + k + '): ' + v)),
			el('dl', { class: 'kv' }, rows.map(([k, v]) =>
				[el('dt', null, k), el('dd', null, v)])));
	}

	/* ---- bandwidth: an SVG bar chart, sent and fetched per day ---- */

	function drawBandwidth(r) {
		if (!r.ok) {
			fill('bandwidth', r.status === 401 || r.status === 403
				? needKey('The bandwidth chart') : why(r));
			return;
		}
		const rows = r.body.rows || [];
		if (!rows.length) {
			fill('bandwidth', el('p', { class: 'muted' },
				'No bytes exchanged with SPs yet.'));
			return;
		}
		const W = 640, H = 220, L = 64, B = 24, T = 8;
		const max = Math.max(1, ...rows.map(x => Math.max(x.sent,
			x.fetched)));
		const slot = (W - L) / rows.length;
		const bw = Math.max(2, Math.min(28, slot / 2 - 3));
		const y = v => T + (H - B - T) * (1 - v / max);
		const g = svg('svg', { viewBox: '0 0 ' + W + ' ' + H,
			preserveAspectRatio: 'none', role: 'img',
			'aria-label': 'bytes per day' });
		for (let i = 0; i <= 4; i++) {
			const v = max * i / 4;
			g.appendChild(svg('line', { class: 'axis', x1: L, x2: W,
				y1: y(v), y2: y(v) }));
			g.appendChild(svg('text', { x: L - 6, y: y(v) + 3,
				'text-anchor': 'end' }, bytes(v)));
		}
		rows.forEach((x, i) => {
			const cx = L + slot * i + slot / 2;
			for (const [k, dx] of [['sent', -bw - 1], ['fetched', 1]]) {
				const rect = svg('rect', { class: 'bar-' + k,
					x: cx + dx, y: y(x[k]), width: bw,
					height: Math.max(0, H - B - y(x[k])) });
				rect.appendChild(svg('title', null, x.day + ' ' + k +
					': ' + bytes(x[k])));
				g.appendChild(rect);
			}
			if (rows.length <= 16 || i % Math.ceil(rows.length / 16) === 0)
				g.appendChild(svg('text', { x: cx, y: H - 8,
					'text-anchor': 'middle' }, x.day.slice(5)));
		});
		fill('bandwidth', g, el('p', { class: 'muted' }, 'total: ' +
			bytes(r.body.sent) + ' sent, ' + bytes(r.body.fetched) +
			' fetched'));
	}

	/* ---- commits ---- */

	function drawCommits(list) {
		pieceCommits = new Map();
		if (!list.ok) {
			fill('commit-table', list.status === 401 ||
				list.status === 403 ? needKey('The commit list')
				: why(list));
			return;
		}
		for (const c of list.body)
			for (const p of c.pieces || []) {
				const v = pieceCommits.get(p.id) || [];
				v.push(c.id);
				pieceCommits.set(p.id, v);
			}
		fill('commit-table', table(
			['#ID', 'Root', 'Path', 'Stage', 'Replication', 'Data',
				'#Size', 'Next'],
			list.body.map(c => el('tr', { 'data-commit': c.id },
				td(String(c.id), 'num'), td(cid(c.root)),
				td(c.path || '–'), td(c.stage),
				td(progress(c.active, c.want)),
				td(c.local ? badge('local')
					: el('span', null, badge('evicted'), ' ' +
						bytes(c.evicted_bytes))),
				td(bytes(c.size), 'num'), td(c.next || '')))));
	}

	/* ---- deals ---- */

	function dealList(r) {
		const deals = Array.isArray(r.body) ? r.body.slice() : [];
		deals.sort((a, b) => (a.piece_id - b.piece_id) ||
			String(a.sp).localeCompare(String(b.sp)));
		return deals;
	}

	function dealKey(d) {
		return d.deal_id !== null && d.deal_id !== undefined
			? String(d.deal_id) : d.uuid;
	}

	function drawDeals(r) {
		if (!r.ok) {
			fill('deal-table', why(r));
			return;
		}
		const deals = dealList(r);
		if (!deals.length) {
			fill('deal-table', el('p', { class: 'muted' },
				'No deals yet.'));
			return;
		}
		fill('deal-table', table(
			['Deal', 'State', 'SP', 'Commits', 'Piece', '#Padded',
				'Verified', 'Epochs', 'Price', 'Updated'],
			deals.map(d => el('tr', {
				class: 'click' + (dealKey(d) === selDeal ? ' sel' : ''),
				'data-deal': dealKey(d),
				onclick: () => openDeal(dealKey(d)),
			},
			td(d.deal_id !== null && d.deal_id !== undefined
				? String(d.deal_id) : el('span', { class: 'cid' },
					d.uuid)),
			td(el('span', null, badge(d.state), d.reason
				? el('div', { class: 'muted' }, d.reason) : null)),
			td(d.sp), td((pieceCommits.get(d.piece_id) || []).join(', ')
				|| '–'),
			td(cid(d.piece_cid)), td(bytes(d.padded), 'num'),
			td(d.verified ? 'yes' : 'no'),
			td(d.start_epoch + '–' + d.end_epoch),
			td(d.total_price ? d.total_price.fil : '–'),
			td(when(d.updated))))));
	}

	function openDeal(k) {
		selDeal = selDeal === k ? null : k;
		for (const tr of document.querySelectorAll('tr[data-deal]'))
			tr.classList.toggle('sel', tr.dataset.deal === selDeal);
		drawDealDetail();
	}

	async function drawDealDetail() {
		const box = document.getElementById('deal-detail');
		if (!selDeal) {
			box.hidden = true;
			return;
		}
		const k = selDeal;
		const r = await get('/deals/status/' + encodeURIComponent(k));
		if (k !== selDeal)
			return;
		box.hidden = false;
		if (!r.ok) {
			fill('deal-detail', el('h3', null, 'Deal ' + k),
				r.status === 401 || r.status === 403
					? needKey('A deal\'s receipt') : why(r));
			return;
		}
		const d = r.body;
		const amt = a => a ? a.fil + ' (' + a.attofil + ' attoFIL)' : '–';
		const kv = [
			['state', badge(d.state)], ['reason', d.reason || '–'],
			['SP', d.sp], ['deal ID', d.deal_id], ['UUID', d.uuid],
			['piece', cid(d.piece_cid)], ['padded', bytes(d.padded)],
			['payload root', cid(d.payload_root)],
			['protocol', d.protocol], ['verified', String(d.verified)],
			['epochs', d.start_epoch + ' to ' + d.end_epoch],
			['sector start', d.sector_start_epoch],
			['slash epoch', d.slash_epoch],
			['price per epoch', amt(d.price_per_epoch)],
			['total price', amt(d.total_price)],
			['collateral', amt(d.provider_collateral)],
			['proposal', cid(d.proposal_cid)],
			['signed proposal', cid(d.signed_proposal_cid)],
			['created', when(d.created)], ['updated', when(d.updated)],
			['next check', when(d.next_check)],
			['chain read', when(d.chain_read)],
		];
		fill('deal-detail',
			el('h3', null, 'Receipt of deal ' + k),
			el('dl', null, kv.map(([a, b]) => [el('dt', null, a),
				el('dd', null, b === null || b === undefined
					? '–' : b)])),
			el('h3', null, 'History'),
			table(['Time', 'State', 'Detail'], (d.history || []).map(
				h => el('tr', null, td(when(h.time)),
					td(badge(h.state)), td(h.detail || '')))),
			el('h3', null, 'On chain (StateMarketStorageDeal)'),
			el('pre', null, d.chain ? JSON.stringify(d.chain, null, 2)
				: 'not read yet'));
	}

	/* ---- miners ---- */

	function drawMiners(r) {
		if (!r.ok) {
			fill('miner-table', why(r));
			return;
		}
		fill('miner-table', table(
			['SP', 'State', '#Score', '#Success', '#Proposed',
				'#Sealed', 'Seal median', '#Retrievals', 'Speed',
				'Ask (FIL/GiB/epoch)', 'Last seen'],
			r.body.map(m => {
				const p = m.performance || {};
				return el('tr', {
					class: 'click' + (m.address === selMiner
						? ' sel' : ''),
					'data-miner': m.address,
					onclick: () => openMiner(m.address),
				},
				td(m.address),
				td(badge(m.state)),
				td(Number(m.score || 0).toFixed(2), 'num'),
				td(p.success_percent === null ? '–'
					: p.success_percent + ' %', 'num'),
				td(num(p.proposed), 'num'),
				td(num(p.sealed), 'num'),
				td(p.seals_timed ? secs(p.seal_median_seconds) : '–'),
				td(num(p.retrievals_ok) + '/' + num(p.retrievals),
					'num'),
				td(p.retrieval_bytes_per_second
					? bytes(p.retrieval_bytes_per_second) + '/s'
					: '–'),
				td(m.ask ? m.ask.price_per_gib_epoch.fil : 'no ask'),
				td(when(m.last_seen)));
			})));
		drawRetrievalSps(r.body);
	}

	function openMiner(a) {
		selMiner = selMiner === a ? null : a;
		for (const tr of document.querySelectorAll('tr[data-miner]'))
			tr.classList.toggle('sel', tr.dataset.miner === selMiner);
		drawMinerDetail();
	}

	async function drawMinerDetail() {
		const box = document.getElementById('miner-detail');
		if (!selMiner) {
			box.hidden = true;
			return;
		}
		const a = selMiner;
		const r = await get('/public/miners/stats/' +
			encodeURIComponent(a) + '?log=50');
		if (a !== selMiner)
			return;
		box.hidden = false;
		if (!r.ok) {
			fill('miner-detail', el('h3', null, a), why(r));
			return;
		}
		const m = r.body;
		const p = m.performance || {};
		fill('miner-detail',
			el('h3', null, 'Storage provider ' + m.address),
			el('dl', null, [
				['state', badge(m.state)], ['URL', m.url || '–'],
				['peer ID', m.peer_id || '–'],
				['deals', num(m.dealCount) + ' (' + num(m.errorCount) +
					' failed, rejected or slashed)'],
				['active storage', bytes(m.usedStorage)],
				['accepted / rejected', num(p.accepted) + ' / ' +
					num(p.rejected)],
				['seal mean', p.seals_timed
					? secs(p.seal_mean_seconds) : '–'],
				['retrieved', bytes(p.retrieved_bytes)],
				['last ok', when(p.last_ok)],
				['last failure', when(p.last_failure)],
				['backed off until', when(m.backoff_until)],
			].map(([k, v]) => [el('dt', null, k), el('dd', null, v)])),
			el('h3', null, 'Log (newest first, ' + num(m.log_rows) +
				' rows in all)'),
			table(['Time', 'Action', 'Outcome', '#Latency', '#Up',
				'#Down', 'Deal', 'Detail'], (m.log || []).map(l =>
				el('tr', null, td(when(l.time)), td(l.action),
					td(badge(l.outcome === 'ok' ? 'ok' : l.outcome)),
					td((l.latency_us / 1000).toFixed(0) + ' ms', 'num'),
					td(bytes(l.bytes_up), 'num'),
					td(bytes(l.bytes_down), 'num'),
					td(l.deal_uuid ? cid(l.deal_uuid) : '–'),
					td(l.detail || '')))));
	}

	/* ---- retrievals: /metrics counters and the SPs' figures ---- */

	function parseMetrics(text) {
		const help = new Map(), vals = new Map();
		for (const line of String(text).split('\n')) {
			let m = /^# HELP (\S+) (.*)$/.exec(line);
			if (m) {
				help.set(m[1], m[2]);
				continue;
			}
			m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/
				.exec(line);
			if (m && !m[2])
				vals.set(m[1], Number(m[3]));
		}
		return { help, vals };
	}

	function drawRetrievals(r) {
		if (!r.ok) {
			fill('retr-counters', why(r));
			return;
		}
		const { help, vals } = parseMetrics(r.body);
		const rows = [];
		for (const [name, v] of vals) {
			if (!name.startsWith('efs_retrieval'))
				continue;
			if (/_(sum|count)$/.test(name))
				continue;
			const label = (help.get(name) || name).replace(/\.$/, '');
			rows.push(el('tr', { 'data-metric': name }, td(label),
				td(/bytes/.test(name) ? bytes(v) : num(v), 'num')));
		}
		/* a latency histogram, when /metrics has one */
		for (const [name, n] of vals) {
			const m = /^(efs_retrieval\w*)_count$/.exec(name);
			if (!m || !n)
				continue;
			const sum = vals.get(m[1] + '_sum') || 0;
			rows.push(el('tr', { 'data-metric': m[1] },
				td((help.get(m[1]) || m[1]).replace(/\.$/, '') +
					' (mean of ' + num(n) + ')'),
				td(secs(sum / n), 'num')));
		}
		fill('retr-counters', rows.length ? table(['Counter', '#Value'],
			rows) : el('p', { class: 'muted' },
			'Retrieval is not running in this daemon.'));
	}

	function drawRetrievalSps(miners) {
		const ms = miners.filter(m => m.performance &&
			m.performance.retrievals);
		fill('retr-sps', ms.length ? table(['SP', '#Retrievals', '#OK',
			'#Bytes', '#Speed', 'Last ok'], ms.map(m => {
			const p = m.performance;
			return el('tr', null, td(m.address),
				td(num(p.retrievals), 'num'),
				td(num(p.retrievals_ok), 'num'),
				td(bytes(p.retrieved_bytes), 'num'),
				td(bytes(p.retrieval_bytes_per_second) + '/s', 'num'),
				td(when(p.last_ok)));
		})) : el('p', { class: 'muted' },
			'No retrieval from an SP yet.'));
	}

	/* ---- the refresh loop ---- */

	let timer = null;
	let running = false;

	async function refresh() {
		running = true;
		const [stats, miners, dealer, metrics, list, bw, deals] =
			await Promise.all([
				get('/public/stats'), get('/public/miners'),
				get('/dealer'), get('/metrics'),
				get('/content/list?limit=1000'),
				get('/content/bandwidth?by=day&days=30'),
				get('/dashboard/api/deals?limit=1000'),
			]);
		drawStats(stats);
		drawDealer(dealer);
		drawHealth(list);
		drawCommits(list);
		drawBandwidth(bw);
		drawMiners(miners);
		drawRetrievals(metrics);
		drawDeals(deals);
		await Promise.all([drawDealDetail(), drawMinerDetail()]);
		const st = document.getElementById('status');
		const down = [stats, miners].find(x => x.status === 0);
		st.className = 'status ' + (down ? 'error' : 'muted');
		st.textContent = down ? why(down) + ': retrying'
			: 'updated ' + new Date().toLocaleTimeString();
		document.body.dataset.loaded = 'yes';
		running = false;
		timer = setTimeout(refresh, REFRESH_MS);
	}

	function refreshNow() {
		if (running)
			return;
		clearTimeout(timer);
		refresh();
	}

	async function start() {
		fragmentTake();
		keySetup();
		await keyCheck();
		refresh();
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
