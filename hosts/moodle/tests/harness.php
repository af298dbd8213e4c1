<?php
// The contract tests' entry into the plugin's pure classes (tests/moodle runs it as a subprocess).
// This is not Moodle: it reads JSON on stdin and writes JSON on stdout, so that Python can post
// exactly the bytes and headers the plugin's delivery task would send.
//
//   php harness.php round   {snapshot, known, account, secret, now, batchonly?} -> {actions, requests}
//   php harness.php launch  {secret, account, user_id, role, now, locale?}      -> {token}
require __DIR__ . '/bootstrap.php';

use local_outlooksync\local\launch_token;
use local_outlooksync\local\sync;

$input = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
switch ($argv[1] ?? '') {
    case 'round':
        $output = sync::round($input['snapshot'], $input['known'] ?: [], $input['account'], $input['secret'],
            $input['now'], $input['batchonly'] ?? false);
        break;
    case 'launch':
        $output = ['token' => launch_token::make($input['secret'], $input['account'], $input['user_id'],
            $input['role'], $input['now'], $input['locale'] ?? null)];
        break;
    default:
        fwrite(STDERR, "usage: php harness.php round|launch < input.json\n");
        exit(2);
}
echo json_encode($output, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
