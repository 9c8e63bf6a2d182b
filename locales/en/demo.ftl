# Demo mode (`make demo`): every message the console shows carries this label.
demo-label = 🧪 Demo data — not live market prices
demo-intro =
    🧪 Demo mode: generated market data from a local stand-in exchange, answers from a local stand-in model, test Stars. Nothing here is live.
    Try: BTC 4h · /price ETH · /chart SOL 1d · /buy · /invite
