# The analyst's answer while it is being written (message drafts in private chats, edits in groups).
stream-thinking = 🤔 Looking at the market…
stream-stop-button = ⏹ Stop
stream-stopped = ⏹ Stopped — nothing was charged.
stream-stop-not-yours = Only the person who asked can stop this answer.
stream-stop-too-late = This answer is already finished.
chat-leak-refused = I'm Coinsight, your market analyst — I keep my working notes to myself. Ask me about a coin, a level or a timeframe and I'll dig into the data.
