module github.com/HamiGames/lucid-data

go 1.22
