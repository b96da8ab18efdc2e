"""The three roles over asyncio + websockets: proxy, fake CSMS, fake charger."""
