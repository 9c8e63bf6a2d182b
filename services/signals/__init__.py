"""Signals: the strategy (rules on the TA-Lib analysis), the engine that publishes at candle closes,
manual signals, outcome grading as trades with costs, the track record (/performance) and backtests."""
