"""Local stand-ins for the services Coinsight talks to: a Bot API server, exchanges (Bybit/Binance
REST) and an OpenAI-compatible model, all on 127.0.0.1.

Development tools, not product code: console/demo mode and the test suite use them through their
public API (`standins.telegram`, `standins.exchanges`, `standins.openai_server`, and
`standins.demo` for `make demo`): the names in each one's `__all__`. Product code never imports this
package (bot/console.py only inside its functions; tests/unit/test_standins_boundary.py checks both
rules), and the production image never contains it.
"""
