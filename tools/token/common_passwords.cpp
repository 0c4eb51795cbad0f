// The built-in list of common passwords (see passphrase_policy.h). Written by hand for lockd:
// the entries are the well-known leaders of published surveys of leaked passwords, not a copy
// of any one list file.
#include <array>

#include "tools/token/passphrase_policy.h"

namespace lockctl {

namespace {

// Sorted (tests/tools/passphrase_policy_test.cpp checks it): CheckNewPassphrase searches it
// with std::binary_search.
constexpr auto kCommonPasswords = std::to_array<std::string_view>({
    "000000",      "00000000",      "111111",        "11111111",     "112233",       "121212",
    "123123",      "123123123",     "123321",        "12345",        "123456",       "1234567",
    "12345678",    "123456789",     "1234567890",    "123654",       "147258369",    "159753",
    "1q2w3e4r",    "1q2w3e4r5t",    "1q2w3e4r5t6y",  "1qaz2wsx",     "1qaz2wsx3edc", "1qazxsw2",
    "555555",      "654321",        "666666",        "777777",       "888888",       "987654321",
    "9876543210",  "999999",        "a1b2c3d4",      "aa123456",     "aaaaaa",       "ababab",
    "abc123",      "abc12345",      "abcabc",        "abcd1234",     "abcdef",       "abcdefg",
    "abcdefgh",    "abcdefghij",    "access",        "access14",     "admin",        "admin123",
    "admin1234",   "adminadmin",    "administrator", "america",      "amor",         "andrew",
    "android",     "angel",         "angels",        "anthony",      "anything",     "apple",
    "arsenal",     "asdf1234",      "asdfasdf",      "asdfgh",       "asdfghjkl",    "ashley",
    "atm",         "atm12345",      "australia",     "autumn",       "azerty",       "azertyuiop",
    "baby",        "babygirl",      "banana",        "bank",         "banking",      "barcelona",
    "baseball",    "basketball",    "batman",        "berlin",       "bitcoin",      "blessed",
    "blink182",    "bonjour",       "brother",       "business",     "buster",       "butterfly",
    "canada",      "cash",          "cashmachine",   "champion",     "changeme",     "changeme1",
    "changeme123", "charlie",       "charlie1",      "cheese",       "chelsea",      "chicago",
    "chocolate",   "christ",        "ciao",          "coffee",       "company",      "computer",
    "contrasena",  "cookie",        "corvette",      "cowboys",      "cutie",        "dallas",
    "dancer",      "daniel",        "darling",       "debian",       "default",      "default123",
    "dollar",      "donald",        "dragon",        "dragonball",   "eagle",        "eminem",
    "engineer",    "england",       "facebook",      "falcon",       "family",       "father",
    "ferrari",     "fieldengineer", "flower",        "football",     "football1",    "forever",
    "france",      "freedom",       "friends",       "garfield",     "germany",      "ginger",
    "god",         "godisgood",     "golf",          "goodbye",      "google",       "guest",
    "guest123",    "guitar",        "hallo",         "harley",       "heaven",       "hello",
    "hello123",    "hello1234",     "hellohello",    "helloworld",   "helpdesk",     "hockey",
    "hola",        "honey",         "hunter",        "hunter2",      "iloveu",       "iloveyou",
    "iloveyou1",   "iloveyou2",     "internet",      "iphone",       "ironman",      "jennifer",
    "jessica",     "jesus",         "jesus1",        "jordan",       "jordan23",     "joshua",
    "juventus",    "killer",        "legend",        "letitbe",      "letmein",      "letmein1",
    "letmein123",  "linux",         "lion",          "liverpool",    "lockd",        "lockdtoken",
    "login",       "login123",      "london",        "love",         "lovely",       "loveme",
    "loveyou",     "maggie",        "maintenance",   "manager",      "manchester",   "master",
    "master123",   "masterkey",     "matrix",        "matthew",      "maverick",     "mercedes",
    "metallica",   "michael",       "michael1",      "mickey",       "microsoft",    "minnie",
    "money",       "money123",      "monkey",        "monkey123",    "motdepasse",   "mother",
    "music",       "mustang",       "mylove",        "mypassphrase", "mypassword",   "mysecret",
    "naruto",      "newpassword",   "ninja",         "nirvana",      "nokia",        "nothing",
    "office",      "oldpassword",   "operator",      "orange",       "p4ssw0rd",     "paris",
    "pass123",     "pass1234",      "passpass",      "passphrase",   "passw0rd",     "password",
    "password1",   "password12",    "password123",   "password1234", "passwort",     "pepper",
    "piano",       "pikachu",       "pirate",        "pizza",        "pokemon",      "porsche",
    "princesa",    "princess",      "princess1",     "private",      "q1w2e3r4",     "q1w2e3r4t5",
    "qazwsx",      "qweasd",        "qweasdzxc",     "qwerqwer",     "qwerty",       "qwerty1",
    "qwerty123",   "qwertyui",      "qwertyuiop",    "qwertz",       "qwertzuiop",   "rainbow",
    "realmadrid",  "robert",        "rockstar",      "root",         "root1234",     "rootroot",
    "samsung",     "scooby",        "secret",        "secret123",    "secure",       "security",
    "senha123",    "service",       "service123",    "sexy",         "shadow",       "shadow1",
    "sister",      "snoopy",        "soccer",        "soccer1",      "soldier",      "something",
    "spiderman",   "spring",        "startrek",      "starwars",     "steelers",     "success",
    "summer",      "sunshine",      "superman",      "superstar",    "support",      "support123",
    "sweet",       "sweetie",       "teamo",         "technician",   "temp",         "temp1234",
    "temppass",    "tennis",        "test",          "test123",      "test1234",     "testing",
    "testing123",  "testtest",      "thomas",        "tiger",        "tinkerbell",   "token",
    "token123",    "tokyo",         "toor",          "trustno1",     "ubuntu",       "usbstick",
    "user",        "user1234",      "warrior",       "welcome",      "welcome1",     "welcome123",
    "welcome2",    "whatever",      "whiskey",       "whoami",       "windows",      "winner",
    "winter",      "yankees",       "yourpassword",  "zaq12wsx",     "zaq1zaq1",     "zxcvbn",
    "zxcvbnm",     "zxczxc",        "zzzzzz",
});

}  // namespace

std::span<const std::string_view> CommonPasswords() { return kCommonPasswords; }

}  // namespace lockctl
