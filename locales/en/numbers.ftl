# Numbers in the analyst's answer that the live data does not back (services/chat/numbers.py)
numbers-unverified = (⚠️ unverified)
numbers-note = _⚠️ Numbers marked “unverified” are not in the live market data I was given — don't trade on them._
