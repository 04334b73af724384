% Prints case_id,metric,value,call (%.17g) of VIFB's metrics*.m (unmodified) on the cases of this folder,
% called as VIFB's compute_metrics.m calls them: metricsXxx(imgVI, imgIR, fused) on imread'ed uint8 images.
% Run with VIFB's metrics/ folder and the freqspace/blkproc shims (../octave_paper_metrics/freqspace.m,
% ../octave_structural_metrics/blkproc.m) on the path, e.g. from a folder holding copies of all of them:
%   CASES=<this folder> IDS=lytro03_61x73,flir00211_53x67 octave-cli -q run_reference.m
pkg load image;
addpath(pwd);
warning('off', 'all');
folder = getenv('CASES');
ids = strsplit(getenv('IDS'), ',');
names = {'AVG', 'Avg_gradient'; 'SEN', 'Entropy'; 'STD', 'Variance'; 'SF', 'Spatial_frequency'; 'EI', 'Edge_intensity'; ...
         'MI', 'Mutinf'; 'Qabf', 'Qabf'; 'Qc', 'Qcb'; 'Qcv', 'Qcv'; 'SSIMs', 'Ssim'};
for i = 1:numel(ids)
  id = ids{i};
  A = imread(fullfile(folder, [id '-A.png'])); B = imread(fullfile(folder, [id '-B.png']));
  F = imread(fullfile(folder, [id '-F.png']));
  for j = 1:size(names, 1)
    call = ['metrics' names{j, 2} '(A,B,F)'];
    evalc(['v = real(' call ');']);
    printf('%s,%s,%.17g,"real(%s)"\n', id, names{j, 1}, v, call);
    fflush(stdout);
  end
end
